#if canImport(Glibc)
import Glibc
#endif
import StrikeCore
import StrikeOS
import StrikeStore

/// A message file named on the command line, or found directly inside a
/// directory named there.
public struct NamedFile: Sendable {
    public let path: String
    public let lines: Bool
}

/// Expands command-line paths into message files: a file as given (whatever
/// its name), a directory's regular files directly inside it (not recursing),
/// skipping the names the spool ignores (hidden and temporary files) and
/// sync-conflict copies.
public enum PathExpansion {
    public struct Skipped: Sendable {
        public let path: String
        public let why: String
    }

    public static func expand(_ paths: [String]) -> (files: [NamedFile], skipped: [Skipped]) {
        var files: [NamedFile] = []
        var skipped: [Skipped] = []
        for path in paths {
            let info: stat
            do {
                info = try Sys.statPath(path)
            } catch {
                skipped.append(Skipped(path: path, why: error.description))
                continue
            }
            if info.isDirectory {
                let entries: [FileName]
                do {
                    entries = try Sys.listDirectoryEntries(path)
                } catch {
                    skipped.append(Skipped(path: path, why: error.description))
                    continue
                }
                let base = path.hasSuffix("/") ? path : path + "/"
                for entry in entries where entry.text == nil && SpoolName(entry.escaped) != .ignore {
                    skipped.append(Skipped(path: base + entry.escaped, why: "its name is not UTF-8 (shown with those bytes as %XX); rename it to ingest it"))
                }
                for name in entries.compactMap(\.text).sorted() {
                    let full = base + name
                    switch SpoolName(name) {
                    case .ignore: continue
                    case .syncConflict:
                        skipped.append(Skipped(path: full, why: "a sync tool's conflict copy; rename it to ingest it"))
                    case .message, .lines:
                        if let entry = try? Sys.lstatPath(full), entry.isDirectory { continue }
                        files.append(NamedFile(path: full, lines: SpoolName(name) == .lines))
                    }
                }
            } else {
                let name = path.split(separator: "/").last.map(String.init) ?? path
                files.append(NamedFile(path: path, lines: SpoolName(name) == .lines))
            }
        }
        return (files, skipped)
    }
}

/// What a one-shot ingest saw.
public struct IngestTotals: Sendable {
    public var files = 0
    public var copies = 0
    public var applied = 0
    public var duplicates = 0
    public var rejected = 0
    public var unreadable = 0

    public init() {}
}

/// `strikecd ingest`: reconciles named files into a store, changing no input.
///
/// Copies are committed in batches (group commit), so a crash loses at most
/// the batch in flight and a re-run counts what was already committed as
/// duplicates, as the contract says a re-run must.
public struct PathIngest {
    public enum Event {
        /// A copy was rejected (`path[:line]`).
        case rejected(source: String, Rejection)
        /// A file could not be read at all.
        case unreadable(path: String, why: String)
        /// Periodic progress.
        case progress(IngestTotals, of: Int)
    }

    let store: Store
    let policy: ValidationPolicy
    let batchSize: Int
    let limits: FileLimits

    public init(store: Store, policy: ValidationPolicy, batchSize: Int = 1000, limits: FileLimits = FileLimits()) {
        self.store = store
        self.policy = policy
        self.batchSize = batchSize
        self.limits = limits
    }

    public func run(_ files: [NamedFile], now: Int64, report: (Event) -> Void) throws(StoreError) -> IngestTotals {
        var totals = IngestTotals()
        var batch: [CopyInput] = []
        var lastProgress = Sys.monotonicNanoseconds()
        let start = lastProgress

        func commit() throws(StoreError) {
            guard !batch.isEmpty else { return }
            let (outcomes, _) = try store.ingest(batch, now: now, speakers: policy.signatures.speakers)
            for (copy, outcome) in zip(batch, outcomes) {
                switch outcome {
                case .applied: totals.applied += 1
                case .duplicate: totals.duplicates += 1
                case .rejected(let rejection):
                    totals.rejected += 1
                    report(.rejected(source: copy.source, rejection))
                }
            }
            batch.removeAll(keepingCapacity: true)
            let clock = Sys.monotonicNanoseconds()
            // Progress once a run has taken over a second, then every two.
            if clock - start > 1_000_000_000, clock - lastProgress > 2_000_000_000 {
                lastProgress = clock
                report(.progress(totals, of: files.count))
            }
        }

        for file in files {
            totals.files += 1
            let opened: MessageFileReader.Opened
            do {
                opened = try MessageFileReader.open(at: AT_FDCWD, file.path, display: file.path, lines: file.lines, policy: policy, limits: limits)
            } catch {
                totals.unreadable += 1
                report(.unreadable(path: file.path, why: error.description))
                continue
            }
            switch opened {
            case .notRegular(let kind):
                totals.unreadable += 1
                report(.unreadable(path: file.path, why: "not a regular file (\(kind))"))
            case .tooLarge(let size, let identity):
                totals.copies += 1
                let rejection = Rejection(.tooLarge, "file is \(size) bytes; the limit is \(limits.maximumFileBytes)")
                batch.append(CopyInput(reading: CopyReading(identity: identity, envelope: nil, verdict: .failure(rejection)), source: file.path))
            case .reader(let reader):
                if file.lines {
                    // The next chunk's lines are read, validated and hashed on
                    // another thread while this batch commits, as the daemon does.
                    reader.readAhead = (copies: batchSize, bytes: 16 << 20)
                }
                while true {
                    let copies: [FileCopy]
                    do {
                        copies = try reader.next(limit: batchSize)
                    } catch {
                        totals.unreadable += 1
                        report(.unreadable(path: file.path, why: error.description))
                        break
                    }
                    if copies.isEmpty { break }
                    for copy in copies {
                        totals.copies += 1
                        batch.append(CopyInput(reading: copy.reading, source: copy.line.map { "\(file.path):\($0)" } ?? file.path))
                    }
                    if batch.count >= batchSize { try commit() }
                }
            }
            if batch.count >= batchSize { try commit() }
        }
        try commit()
        return totals
    }
}
