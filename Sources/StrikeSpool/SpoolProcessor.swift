#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Dispatch
import StrikeCore
import StrikeOS
import StrikeStore

// SECURITY and CORRECTNESS: this is where "never lose or double-count a
// message" is kept. The rule is one transaction per batch that records, with
// the state it changes, how far each spool file has been accounted for and what
// is to become of it (the ledger). Only after that COMMIT is durable does a
// file leave incoming/ (unlinked, or renamed into quarantine/), and only after
// the directory is fsynced is its ledger row deleted. A crash at any instant
// therefore leaves either an uncommitted batch (its files are still there and
// are read again) or a committed one (the ledger says what remains to do).
// Bad lines of a .jsonl are recorded inside the transaction and written into
// quarantine/ after it, under names that a retry reuses. Whatever fails after
// COMMIT (a full disk, quarantine/ removed) changes nothing that was counted:
// memory follows the database first, the report is handed on, and only then
// are files written and removed, to be retried if that fails.
// A .jsonl in progress is resumed where it stopped only while the bytes
// accounted for are still the bytes there (a digest of them is in the ledger).

/// What a pass did, for logs, STATUS= and the change feed.
public struct PassReport: Sendable {
    public struct Rejected: Sendable {
        public let file: String
        public let line: Int?
        public let rejection: Rejection
        public let quarantinedAs: String?
    }

    public var copies = 0
    public var applied = 0
    public var duplicates = 0
    /// Where each duplicate copy was (file, and line of a `.jsonl`), for
    /// debug logging.
    public var duplicateCopies: [(file: String, line: Int?)] = []
    public var rejected: [Rejected] = []
    /// Files quarantined unread (sync conflicts, FIFOs, symlinks, …).
    public var setAside: [Rejected] = []
    public var conflicts: [ReconcileEvent] = []
    /// What each commit changed, for `Watch` (org.strikecd.Query).
    public var changes: [Change] = []
    public var filesDone = 0
    /// Files still being written: retry these names at these times (epoch s).
    public var waiting: [String: Int64] = [:]
    /// Directories left alone.
    public var skipped: [String] = []
    /// Files left in incoming/ because strikecd may not read them.
    public var unreadable: [String] = []
    /// Names whose file was replaced, or written to, after it was read and
    /// before it was removed or quarantined: the new file was left in place,
    /// to be read in its turn.
    public var changedAfterReading: [String] = []
    /// `.jsonl` files in progress whose bytes already accounted for changed
    /// (rewritten in place, or a new file on the same inode): read afresh.
    public var rewritten: [String] = []
    /// True when the pass stopped early because shutdown was requested.
    public var interrupted = false

    public init() {}
}

/// Environment trouble that stops a pass; nothing is lost, the pass is retried.
public enum SpoolTrouble: Error, CustomStringConvertible {
    case store(StoreError)
    case system(SystemError)

    public var description: String {
        switch self {
        case .store(let error): error.detail
        case .system(let error): error.description
        }
    }
}

/// Reads spool files, reconciles their copies in batches and disposes of them.
/// Not thread-safe: one processor, used from one thread.
public final class SpoolProcessor {
    public struct Settings: Sendable, Equatable {
        public var batchSize = 10_000
        /// Bytes of copies per transaction, besides the count.
        public var batchBytes = 16 << 20
        public var gracePeriod: Int64 = 5
        public var maximumFutureSkew: Int64 = 15 * 60
        public var limits = FileLimits()
        /// The signature policy and keyring (the daemon passes the configured ones).
        public var signatures = SignatureRules.off
        /// Federation (docs/design.md, "Federation"): peers, inboxes, reports.
        public var federation: FederationSettings?

        public init() {}
    }

    let layout: SpoolLayout
    let store: Store
    /// Replaced by the spool loop after a reload (SIGHUP); used from the next pass.
    var settings: Settings
    let quarantine: Quarantine
    /// The ledger, mirrored in memory: only this processor writes it.
    private var ledger: [String: LedgerEntry] = [:]
    /// Ledger rows whose files are durably gone; deleted in the next transaction.
    private var cleanup: [String] = []
    /// Bad lines durably written into quarantine/; their records are deleted
    /// in the next transaction.
    private var writtenLines: [Int64] = []
    /// Bad lines counted by a committed batch whose copies in quarantine/
    /// could not be written yet (disk full, quarantine/ gone): retried first
    /// thing in each pass.
    private var unwritten: [PendingLine] = []
    /// A running digest of what has been accounted for of each `.jsonl` in
    /// progress (by name): the bytes up to `end`, of the file on `device`
    /// and `inode`. Saves hashing the whole prefix again at each commit.
    private var prefixes: [String: Prefix] = [:]
    /// Rejected one-message files of the batch being disposed of whose copies
    /// in quarantine/ are written but not yet durable: removed once they are.
    private var copiedOriginals: [LedgerEntry] = []

    private struct Prefix {
        let device: UInt64
        let inode: UInt64
        var hasher = SHA256()
        var end: Int64 = 0

        var hex: String { hasher.finalize().map { String(format: "%02x", $0) }.joined() }
    }
    /// Receives the details of each commit (rejections, conflicts, applied
    /// messages) as soon as it is durable, so a pass over a huge file never
    /// holds more than one batch of them.
    public var reporter: ((PassReport) -> Void)?
    /// The name after the one being handled in this pass, and the policy of
    /// the pass: what `readAheadUpcoming` needs.
    private var upcoming: (name: String, policy: ValidationPolicy)?
    /// The upcoming `.jsonl`, opened while a batch committed and being read
    /// ahead; `handle` takes it instead of opening the file again.
    private var preopened: (name: String, reader: MessageFileReader)?
    /// One-message files of this pass being opened and read on other threads
    /// ahead of their turn (`readAheadSingles`), by name: their run and place
    /// in it. `handle` takes each instead of opening the file itself.
    private var readingAhead: [String: (run: ReadAheadRun, index: Int)] = [:]
    /// How far into the pass's names reading ahead has been arranged.
    private var readAheadEnd = 0
    /// Control lines of federation batches read in this pass, with their file.
    private var controls: [(control: ControlLine, file: String)] = []
    /// `line:name` of the control lines handed over (each is idempotent;
    /// this only spares answering one report many times).
    private var controlsSeen = Set<String>()

    /// The control lines read since the last call, handed over once.
    func takeControls() -> [(control: ControlLine, file: String)] {
        defer { controls = [] }
        return controls
    }

    public init(layout: SpoolLayout, store: Store, settings: Settings) throws(SpoolTrouble) {
        self.layout = layout
        self.store = store
        self.settings = settings
        self.quarantine = Quarantine(layout: layout)
        // Temporary files of writes into quarantine/ that a crash interrupted.
        for name in (try? Sys.listDirectory(layout.quarantine)) ?? [] where QuarantineNames.isTemporary(name) {
            try? Sys.unlinkat(layout.quarantineFD, name)
        }
        do {
            for entry in try store.read({ db in try SpoolLedger.all(db) }) as [LedgerEntry] {
                ledger[entry.name] = entry
            }
        } catch {
            throw .store(error)
        }
    }

    /// Finishes what a previous run committed but did not complete (unlinks,
    /// moves into quarantine, bad lines into quarantine/) and forgets ledger
    /// rows of vanished files. Files still in progress are left to the
    /// passes after READY=1: a big `.jsonl` interrupted half way must not
    /// hold up the start.
    public func recover(now: Int64) throws(SpoolTrouble) -> PassReport {
        var report = PassReport()
        do {
            unwritten = try store.read { db in try SpoolLedger.pendingLines(db) }
        } catch {
            throw .store(error)
        }
        // And rows of files gone meanwhile, to be forgotten.
        let names = ledger.values.filter { entry in
            entry.disposition != nil || (try? Sys.lstatat(layout.incomingFD, entry.name)) == nil
        }.map(\.name).sorted()
        try process(names, now: now, report: &report, shouldStop: { false })
        return report
    }

    /// One pass over `names` (from a scan or inotify). Returns when all are
    /// handled, or early when `shouldStop()` turns true: it is asked between
    /// files and between the batches of a `.jsonl`, and the batch in flight
    /// is committed first (a `.jsonl` stopped half way resumes from its
    /// ledger row).
    public func process(_ names: [String], now: Int64, shouldStop: () -> Bool) throws(SpoolTrouble) -> PassReport {
        var report = PassReport()
        try process(names, now: now, report: &report, shouldStop: shouldStop)
        return report
    }

    /// `pass`, and if it fails, hands on what was committed before it
    /// failed: Watch and the journal hear of every batch that counted.
    private func process(_ names: [String], now: Int64, report: inout PassReport, shouldStop: () -> Bool) throws(SpoolTrouble) {
        do {
            try pass(names, now: now, report: &report, shouldStop: shouldStop)
        } catch {
            flush(&report)
            throw error
        }
    }

    // MARK: - The pass

    private struct PendingFile {
        var entry: LedgerEntry
        let single: Bool
        var complete = false
        /// For a one-message file: its copy's rejection, if rejected.
        var rejection: Rejection?
        var sha256: String?
        var size: Int64 = 0
    }

    private struct Item {
        let file: Int
        let copy: FileCopy
    }

    private struct Batch {
        var files: [PendingFile] = []
        var items: [Item] = []
        var bytes = 0
    }

    private func pass(_ names: [String], now: Int64, report: inout PassReport, shouldStop: () -> Bool) throws(SpoolTrouble) {
        // What the last pass committed but could not write into quarantine/.
        try writeUnwritten(report: &report)
        var batch = Batch()
        let policy = ValidationPolicy(now: now, maximumFutureSkew: settings.maximumFutureSkew, signatures: settings.signatures)
        // A name twice in one pass (an inotify event and a due retry) would
        // be read twice before its first copy is committed.
        var seen = Set<String>()
        let names = names.filter { seen.insert($0).inserted }
        defer {
            upcoming = nil
            preopened = nil
            finishReadingAhead()
        }
        for (position, name) in names.enumerated() {
            if shouldStop() {
                report.interrupted = true
                break
            }
            readAheadSingles(names, from: position + 1, policy: policy)
            upcoming = position + 1 < names.count ? (names[position + 1], policy) : nil
            try handle(name, now: now, policy: policy, batch: &batch, report: &report, shouldStop: shouldStop)
            if report.interrupted { break }
        }
        upcoming = nil
        try commit(&batch, now: now, report: &report)
        flush(&report)
        if !cleanup.isEmpty || !writtenLines.isEmpty {
            do {
                let (names, ids) = (cleanup, writtenLines)
                try store.write { db in
                    var ledger = LedgerWriter(db)
                    try ledger.delete(names: names)
                    try SpoolLedger.deletePending(db, ids: ids)
                }
                cleanup = []
                writtenLines = []
            } catch {
                throw .store(StoreError.from(error))
            }
        }
    }

    private func handle(
        _ name: String, now: Int64, policy: ValidationPolicy, batch: inout Batch, report: inout PassReport, shouldStop: () -> Bool
    ) throws(SpoolTrouble) {
        let kind = SpoolName(name)
        let display = layout.incoming + "/" + name
        if kind == .ignore { return }
        if kind == .syncConflict {
            try setAside(name, code: .syncConflict, detail: "a sync tool's conflict copy: compare it with the original, then rename it (or requeue it) to have it read", now: now, report: &report)
            return
        }
        let early = preopened?.name == name ? preopened?.reader : nil
        preopened = nil
        let readAhead = takeReadAhead(name)
        let opened: MessageFileReader.Opened
        do {
            opened = if let early {
                .reader(early)
            } else if let readAhead {
                try readAhead.get()
            } else {
                try MessageFileReader.open(at: layout.incomingFD, name, display: display, lines: kind == .lines, policy: policy, limits: settings.limits)
            }
        } catch where error.isNotFound {
            if ledger[name] != nil { cleanup.append(name); ledger[name] = nil }
            prefixes[name] = nil
            return
        } catch where error.errno == EACCES || error.errno == EPERM {
            // Left in place, never dropped: the writer must fix its mode.
            report.unreadable.append(name)
            return
        } catch {
            throw .system(error)
        }
        switch opened {
        case .notRegular(let type):
            if type == "directory" {
                report.skipped.append(name)
                return
            }
            try setAside(name, code: .notRegular, detail: "not a regular file but a \(type); it was not read", now: now, report: &report)
        case .tooLarge(let size, let identity):
            let rejection = Rejection(.tooLarge, "file is \(size) bytes; the limit (max_file_size) is \(settings.limits.maximumFileBytes)")
            let info = (try? Sys.lstatat(layout.incomingFD, name)) ?? stat()
            // Accounted for before a crash: only the move into quarantine/
            // remains, as in `read`. Judged again instead, it was a duplicate
            // of itself, and deleted.
            if let known = ledger[name], known.disposition != nil, known.device == UInt64(info.st_dev),
               known.inode == UInt64(info.st_ino), known.ctime == info.changedNanoseconds {
                try dispose(known, now: now, report: &report)
                return
            }
            var file = PendingFile(entry: LedgerEntry(name: name, device: UInt64(info.st_dev), inode: UInt64(info.st_ino), ctime: info.changedNanoseconds), single: true)
            file.complete = true
            file.size = size
            batch.files.append(file)
            let copy = FileCopy(line: nil, reading: CopyReading(identity: identity, envelope: nil, verdict: .failure(rejection)), endOffset: size, raw: nil)
            batch.items.append(Item(file: batch.files.count - 1, copy: copy))
            try commitIfFull(&batch, now: now, report: &report)
        case .reader(let reader):
            try read(name, reader, single: kind == .message, now: now, batch: &batch, report: &report, shouldStop: shouldStop)
        }
    }

    private func read(
        _ name: String, _ reader: MessageFileReader, single: Bool, now: Int64, batch: inout Batch, report: inout PassReport,
        shouldStop: () -> Bool
    ) throws(SpoolTrouble) {
        let info = reader.info
        var entry = LedgerEntry(name: name, device: UInt64(info.st_dev), inode: UInt64(info.st_ino), ctime: info.changedNanoseconds)
        entry.openedSize = Int64(info.st_size)
        var prefix = Prefix(device: entry.device, inode: entry.inode)
        if let known = ledger[name], known.device == entry.device, known.inode == entry.inode {
            if known.disposition != nil {
                // Accounted for before a crash or an unfinished pass; only the
                // unlink or move remains. A changed ctime means a new file that
                // reuses the name and inode: read it as new.
                if known.ctime == entry.ctime {
                    try dispose(known, now: now, report: &report)
                    return
                }
            } else if !single {
                do {
                    if let resumed = try resumable(known, reader) {
                        // Resumed where it stopped; lines appended since
                        // changed its ctime, and are read now.
                        entry = known
                        entry.ctime = info.changedNanoseconds
                        entry.openedSize = Int64(info.st_size)
                        prefix = resumed
                        try reader.seek(to: known.doneBytes, line: known.linesDone, prefix: resumed.hasher)
                    } else {
                        report.rewritten.append(name)
                    }
                } catch {
                    throw .system(error)
                }
            }
        }
        if !single {
            // The next batch's lines are read while this one commits.
            reader.readAhead = (copies: settings.batchSize, bytes: settings.batchBytes)
        }
        // File times are the writer's to set: saturated, never trapping.
        let lastWrite = info.lastWriteSeconds
        let young = now.subtractingReportingOverflow(lastWrite).overflow ? lastWrite > 0 : now - lastWrite < settings.gracePeriod
        let quietAt = Self.adding(lastWrite, settings.gracePeriod)
        var file = PendingFile(entry: entry, single: single)
        file.size = Int64(info.st_size)
        batch.files.append(file)
        var index = batch.files.count - 1
        while true {
            let copies: [FileCopy]
            do {
                copies = try reader.next(limit: max(1, settings.batchSize - batch.items.count))
            } catch {
                throw .system(error)
            }
            if !single {
                // A file still being written is read again while it is young:
                // each control line is handed over once per file and line.
                for (line, control) in reader.takeControls() where controlsSeen.insert("\(line):\(name)").inserted {
                    controls.append((control, name))
                }
                if controlsSeen.count > 100_000 { controlsSeen = [] }
            }
            if copies.isEmpty {
                if single || !young {
                    batch.files[index].complete = true
                } else {
                    // Every line so far is applied, but a writer that appends
                    // in place may not be done: the file goes only once it has
                    // been quiet for the grace period.
                    report.waiting[name] = quietAt
                }
                break
            }
            for var copy in copies {
                if let code = copy.reading.rejection?.code, [.json, .utf8, .duplicateKey, .surrogate].contains(code) {
                    if young {
                        // Not complete yet, or not meant to be read yet: a
                        // writer may still be at work. What is before it stays.
                        report.waiting[name] = quietAt
                        advance(&prefix, of: name, index: index, batch: &batch)
                        return
                    }
                    if copy.endedEarly {
                        let place = copy.line.map { "line \($0) ends" } ?? "the file ends"
                        let detail = "\(place) in the middle of a message and has not changed for \(settings.gracePeriod) s: an interrupted copy? (\(copy.reading.rejection!.detail))"
                        copy = FileCopy(
                            line: copy.line,
                            reading: CopyReading(identity: copy.reading.identity, envelope: nil, verdict: .failure(Rejection(.truncated, detail))),
                            endOffset: copy.endOffset, raw: copy.raw, prefix: copy.prefix
                        )
                    }
                }
                batch.items.append(Item(file: index, copy: copy))
                batch.bytes += copy.raw?.count ?? 0
                // A one-message file is complete with its one copy: it must be
                // committed together with its disposition, never "in progress"
                // (resuming it would read an empty copy).
                if single { batch.files[index].complete = true }
            }
            if single {
                try commitIfFull(&batch, now: now, report: &report)
                return
            }
            advance(&prefix, of: name, index: index, batch: &batch)
            if batch.items.count >= settings.batchSize || batch.bytes >= settings.batchBytes {
                try commit(&batch, now: now, report: &report)
                // A stop (SIGTERM) is heard between batches, not only between
                // files: a .jsonl of a million lines takes minutes.
                if shouldStop() {
                    report.interrupted = true
                    return
                }
                // The file carries on in the next batch, from its new ledger entry.
                batch.files.append(PendingFile(entry: ledger[name] ?? entry, single: single))
                index = batch.files.count - 1
            }
        }
        try commitIfFull(&batch, now: now, report: &report)
    }

    /// Takes the digest of `name`'s bytes up to the end of its last copy in
    /// the batch (the reader hashed them as it cut the lines) into its
    /// ledger entry.
    private func advance(_ prefix: inout Prefix, of name: String, index: Int, batch: inout Batch) {
        guard let last = batch.items.last(where: { $0.file == index })?.copy, last.endOffset > prefix.end,
              let hasher = last.prefix?.hasher else { return }
        prefix.hasher = hasher
        prefix.end = last.endOffset
        prefixes[name] = prefix
        batch.files[index].entry.prefixSHA256 = prefix.hex
    }

    /// Where `known`'s file may be resumed: the digest of its first
    /// `doneBytes` bytes, when they are still the bytes accounted for; nil
    /// when they are not (rewritten in place, or a new file on the same
    /// inode), or cannot be told (a row without a digest), and the file is
    /// to be read afresh. Unchanged since it was last opened (same size and
    /// change time) and hashed in this run, it is not read again.
    private func resumable(_ known: LedgerEntry, _ reader: MessageFileReader) throws(SystemError) -> Prefix? {
        let info = reader.info
        let fresh = Prefix(device: known.device, inode: known.inode)
        if known.doneBytes == 0 { return fresh }
        guard let digest = known.prefixSHA256, Int64(info.st_size) >= known.doneBytes else { return nil }
        if let kept = prefixes[known.name], kept.device == known.device, kept.inode == known.inode, kept.end == known.doneBytes,
           known.openedSize == Int64(info.st_size), known.ctime == info.changedNanoseconds {
            return kept
        }
        var prefix = fresh
        guard try reader.hash(into: &prefix.hasher, from: 0, to: known.doneBytes) else { return nil }
        prefix.end = known.doneBytes
        return prefix.hex == digest ? prefix : nil
    }

    /// `time + seconds`, saturated: for file times, which are input.
    static func adding(_ time: Int64, _ seconds: Int64) -> Int64 {
        let (sum, overflow) = time.addingReportingOverflow(seconds)
        return overflow ? (seconds > 0 ? .max : .min) : sum
    }

    private func commitIfFull(_ batch: inout Batch, now: Int64, report: inout PassReport) throws(SpoolTrouble) {
        if batch.items.count >= settings.batchSize || batch.bytes >= settings.batchBytes {
            try commit(&batch, now: now, report: &report)
        }
    }

    // MARK: - Commit and dispose

    private func commit(_ batch: inout Batch, now: Int64, report: inout PassReport) throws(SpoolTrouble) {
        // A file with neither copies in this batch nor completion (a young file
        // that does not parse yet) has nothing to record.
        var touched = Set(batch.items.map(\.file))
        for index in batch.files.indices where batch.files[index].complete { touched.insert(index) }
        if touched.isEmpty {
            batch = Batch()
            return
        }
        readAheadUpcoming()
        var files = batch.files
        let items = batch.items
        let cleanupNow = cleanup
        let writtenNow = writtenLines
        var pending: [PendingLine] = []
        let outcomes: [CopyOutcome]
        let events: [ReconcileEvent]
        do {
            (outcomes, events, files, pending) = try store.write { db in
                var ledger = LedgerWriter(db)
                try ledger.delete(names: cleanupNow)
                try SpoolLedger.deletePending(db, ids: writtenNow)
                var reconciler = Reconciler(db, now: now, speakers: settings.signatures.speakers)
                var outcomes = [CopyOutcome](repeating: .duplicate, count: items.count)
                var files = files
                var pending: [PendingLine] = []
                for position in Reconciler.localityOrder(items.map(\.copy.reading.envelope)) {
                    // The copy is read where it lies in the batch: copying an
                    // item (or wrapping it in a CopyInput) retained every
                    // string and array of its message.
                    let file = items[position].file
                    let line = items[position].copy.line
                    let name = files[file].entry.name
                    let source = line.map { name + ":" + String($0) } ?? name
                    let outcome = try reconciler.ingest(items[position].copy.reading, source: source)
                    outcomes[position] = outcome
                    // Copies of one file come in file order, but are reconciled in
                    // locality order: the file is done up to its furthest copy.
                    files[file].entry.doneBytes = max(files[file].entry.doneBytes, items[position].copy.endOffset)
                    if let line { files[file].entry.linesDone = max(files[file].entry.linesDone, line) }
                    guard case .rejected(let rejection) = outcome else { continue }
                    let item = items[position]
                    if files[item.file].single {
                        files[item.file].rejection = rejection
                        // For the .reason file; only rejected copies need it.
                        files[item.file].sha256 = item.copy.raw.map(Quarantine.sha256Hex)
                    } else {
                        // Written into quarantine/ after COMMIT, from this record.
                        pending.append(try SpoolLedger.addPending(db, PendingLine(
                            file: name, line: item.copy.line ?? 0, code: rejection.code.rawValue, detail: rejection.detail,
                            bytes: item.copy.raw, sha256: item.copy.raw.map(Quarantine.sha256Hex),
                            size: item.copy.raw.map { Int64($0.count) }, time: Timestamp.utcText(epochSeconds: now)
                        )))
                    }
                }
                for index in files.indices where touched.contains(index) {
                    var entry = files[index].entry
                    if files[index].complete {
                        if files[index].single, let rejection = files[index].rejection {
                            entry.disposition = .quarantine
                            entry.code = rejection.code.rawValue
                            entry.detail = rejection.detail
                            entry.sha256 = files[index].sha256
                            entry.size = files[index].size
                        } else {
                            entry.disposition = .remove
                        }
                    }
                    files[index].entry = entry
                    try ledger.save(entry)
                }
                try reconciler.finish()
                return (outcomes, reconciler.events, files, pending)
            }
        } catch let error as StoreError {
            throw .store(error)
        } catch let error as SystemError {
            throw .system(error)
        } catch {
            throw .store(StoreError.from(error))
        }
        // Now durable. Memory follows the database before anything else can
        // fail: a retry must resume after this batch, not count it again.
        writtenLines.removeAll { writtenNow.contains($0) }
        cleanup.removeAll { cleanupNow.contains($0) }
        for index in files.indices where touched.contains(index) { ledger[files[index].entry.name] = files[index].entry }
        unwritten += pending
        report.copies += items.count
        report.conflicts += events
        for (item, outcome) in zip(items, outcomes) {
            switch outcome {
            case .applied: report.applied += 1
            case .duplicate:
                report.duplicates += 1
                report.duplicateCopies.append((files[item.file].entry.name, item.copy.line))
            case .rejected: break
            }
        }
        for index in items.indices {
            if let change = Change(items[index].copy.reading, outcome: outcomes[index]) { report.changes.append(change) }
        }
        report.changes += Change.eventChanges(events)
        batch = Batch()
        // Write the bad lines into quarantine/, then take the finished files
        // out of incoming/. If this fails, the caller hands the report on.
        try writeUnwritten(report: &report)
        var disposed = false
        var quarantined = false
        copiedOriginals = []
        for file in files where file.complete {
            try dispose(file.entry, now: now, report: &report, sync: false, grouped: true)
            disposed = true
            quarantined = quarantined || file.entry.disposition == .quarantine
        }
        let copied = copiedOriginals
        copiedOriginals = []
        if !copied.isEmpty {
            // The batch's copies in quarantine/ made durable together; only
            // then do their originals go.
            do {
                try Sys.syncfs(layout.quarantineFD, path: layout.quarantine)
                for entry in copied {
                    // As in `dispose`: another file under the name stays, to be read.
                    if try namesAnotherFile(entry) {
                        report.changedAfterReading.append(entry.name)
                        report.waiting[entry.name] = now
                        continue
                    }
                    do {
                        try Sys.unlinkat(layout.incomingFD, entry.name, display: layout.incoming + "/" + entry.name)
                    } catch where error.isNotFound {}
                }
            } catch {
                throw .system(error)
            }
        }
        if disposed { try syncDirectories(quarantine: quarantined) }
        for entry in copied { forget(entry, report: &report) }
        flush(&report)
    }

    /// Opens the next `.jsonl` of the pass and starts reading it ahead, so
    /// that its lines are read on the other core while this batch commits
    /// (docs/performance.md). Only a file new to the ledger: one to resume
    /// is read from where it stopped, which `handle` looks up. Any trouble
    /// opening it is left to `handle`, which meets it again and deals with it.
    private func readAheadUpcoming() {
        guard preopened == nil, let (name, policy) = upcoming, SpoolName(name) == .lines, ledger[name] == nil else { return }
        let opened = try? MessageFileReader.open(
            at: layout.incomingFD, name, display: layout.incoming + "/" + name, lines: true, policy: policy, limits: settings.limits)
        guard case .reader(let reader)? = opened else { return }
        reader.startReadingAhead(copies: settings.batchSize, bytes: settings.batchBytes)
        preopened = (name, reader)
    }

    /// Arranges for the one-message files among the next `readAheadWindow`
    /// names from `position` to be opened, read, validated (signatures
    /// too) and hashed on other threads, `readAheadRun` names at a time,
    /// while this thread reconciles and commits. Without it a courier's drop
    /// of one-message files was read on the one thread that also writes
    /// SQLite: a quarter of the daemon's time, over half of it with
    /// signatures checked (docs/performance.md). Files the ledger knows are
    /// left to `handle`, which may have other plans for them. What is read
    /// ahead and never taken (the pass stops early) is dropped at the end of
    /// the pass, and read again next time.
    private func readAheadSingles(_ names: [String], from position: Int, policy: ValidationPolicy) {
        readAheadEnd = max(readAheadEnd, position)
        // A whole run at a time, once there is room for one in the window.
        while readAheadEnd < names.count, readAheadEnd + Self.readAheadRun <= position + Self.readAheadWindow {
            let runEnd = min(names.count, readAheadEnd + Self.readAheadRun)
            let run = names[readAheadEnd..<runEnd].filter { SpoolName($0) == .message && ledger[$0] == nil }
            readAheadEnd = runEnd
            guard !run.isEmpty else { continue }
            let reading = ReadAheadRun(names: run)
            for (index, name) in run.enumerated() { readingAhead[name] = (reading, index) }
            let (directory, display, limits) = (layout.incomingFD, layout.incoming, settings.limits)
            // Default QoS, as MessageFileReader's read-ahead (see there why).
            DispatchQueue.global().async(group: reading.done) {
                reading.read(in: directory, display: display, policy: policy, limits: limits)
            }
        }
    }

    static let readAheadWindow = 96
    static let readAheadRun = 32

    /// The outcome of opening `name` ahead of its turn, once its run is read;
    /// nil when it was not read ahead.
    private func takeReadAhead(_ name: String) -> Result<MessageFileReader.Opened, SystemError>? {
        guard let (run, index) = readingAhead.removeValue(forKey: name) else { return nil }
        run.done.wait()
        return run.take(index)
    }

    /// Waits for the runs still being read and drops what was not taken
    /// (closing those files).
    private func finishReadingAhead() {
        for (run, _) in readingAhead.values { run.done.wait() }
        readingAhead = [:]
        readAheadEnd = 0
    }

    /// Hands the details gathered so far to the reporter and forgets them;
    /// what the pass still needs (waiting files, skipped names) stays.
    private func flush(_ report: inout PassReport) {
        guard let reporter else { return }
        reporter(report)
        var kept = PassReport()
        kept.waiting = report.waiting
        kept.skipped = report.skipped
        kept.unreadable = report.unreadable
        kept.interrupted = report.interrupted
        kept.filesDone = report.filesDone
        report = kept
    }

    /// Writes counted bad lines into quarantine/ (idempotent: the same bytes
    /// under the same name are reused), fsyncs it, and queues the records for
    /// deletion. What fails stays in `unwritten`, for the next pass.
    private func writeUnwritten(report: inout PassReport) throws(SpoolTrouble) {
        guard !unwritten.isEmpty else { return }
        let lines = unwritten
        do {
            for line in lines {
                let reason = QuarantineReason(
                    code: line.code, detail: line.detail, line: line.line, sha256: line.sha256, size: line.size,
                    time: line.time, original: line.file
                )
                let written = try quarantine.writeLine(line.bytes, name: line.file, reason: reason)
                if let code = ReasonCode(rawValue: line.code) {
                    report.rejected.append(.init(file: line.file, line: line.line, rejection: Rejection(code, line.detail), quarantinedAs: written))
                }
            }
            // Every line's file at once, then the directory's entries.
            try Sys.syncfs(layout.quarantineFD, path: layout.quarantine)
            try layout.syncQuarantine()
        } catch {
            throw .system(error)
        }
        writtenLines += lines.map(\.id)
        unwritten = []
    }

    /// Carries out a committed disposition, then queues the ledger row for
    /// deletion. `grouped`: a rejected one-message file is copied into
    /// quarantine/ without an fsync and left in place, and its entry added to
    /// `copiedOriginals`; the caller syncs the batch's copies at once,
    /// removes the originals, and then `forget`s them.
    private func dispose(_ entry: LedgerEntry, now: Int64, report: inout PassReport, sync: Bool = true, grouped: Bool = false) throws(SpoolTrouble) {
        guard entry.disposition != nil else { return }
        do throws(SystemError) {
            // Only the file that was read goes. One renamed over its name
            // since it was opened, or written to in place, is another file:
            // it stays, and is read in its turn.
            if try namesAnotherFile(entry) {
                report.changedAfterReading.append(entry.name)
                report.waiting[entry.name] = now
                cleanup.append(entry.name)
                ledger[entry.name] = nil
                prefixes[entry.name] = nil
                return
            }
            switch entry.disposition {
            case .remove?:
                do {
                    try Sys.unlinkat(layout.incomingFD, entry.name, display: layout.incoming + "/" + entry.name)
                } catch where error.isNotFound {}
            case .quarantine?:
                let reason = QuarantineReason(
                    code: entry.code ?? "invalid", detail: entry.detail ?? "", line: nil, sha256: entry.sha256, size: entry.size,
                    time: Timestamp.utcText(epochSeconds: now), original: entry.name
                )
                // A message-sized file is copied in as the daemon's own; a larger
                // one (never read whole) is renamed in as it is.
                var copiedInPlace = false
                let moved = if let sha256 = entry.sha256, (entry.size ?? .max) <= Int64(ValidationPolicy.maximumMessageBytes) {
                    try quarantine.copyFile(entry.name, sha256: sha256, reason: reason, grouped: grouped, left: &copiedInPlace)
                } else {
                    try quarantine.moveFile(entry.name, reason: reason)
                }
                if let code = ReasonCode(rawValue: reason.code) {
                    report.rejected.append(.init(file: entry.name, line: nil, rejection: Rejection(code, reason.detail), quarantinedAs: moved))
                }
                if copiedInPlace {
                    copiedOriginals.append(entry)
                    return
                }
            case nil:
                return
            }
        } catch {
            throw .system(error)
        }
        if sync { try syncDirectories() }
        forget(entry, report: &report)
    }

    /// A disposed file is durably gone: its ledger row goes in the next transaction.
    private func forget(_ entry: LedgerEntry, report: inout PassReport) {
        report.filesDone += 1
        cleanup.append(entry.name)
        ledger[entry.name] = nil
        prefixes[entry.name] = nil
    }

    /// Whether `entry.name` now names a file other than the one read under
    /// it: another device or inode (renamed over it), or written to since
    /// (a modification time later than the change time it had when it was
    /// opened). A change time moved by a link added or removed elsewhere, or
    /// a chmod, is the same file. False when the name is gone.
    private func namesAnotherFile(_ entry: LedgerEntry) throws(SystemError) -> Bool {
        let info: stat
        do {
            info = try Sys.lstatat(layout.incomingFD, entry.name, display: layout.incoming + "/" + entry.name)
        } catch where error.isNotFound {
            return false
        }
        if UInt64(info.st_dev) != entry.device || UInt64(info.st_ino) != entry.inode { return true }
        return info.changedNanoseconds != entry.ctime && info.modifiedNanoseconds > entry.ctime
    }

    /// Makes unlinks and moves durable; quarantine/ only needs it when a file
    /// was moved into it.
    private func syncDirectories(quarantine: Bool = true) throws(SpoolTrouble) {
        do {
            if quarantine { try layout.syncQuarantine() }
            try layout.syncIncoming()
        } catch {
            throw .system(error)
        }
    }

    /// A file that is not a copy at all (FIFO, symlink, sync conflict): moved
    /// into quarantine unread and not counted. `source` is its name in
    /// incoming/ when that is not `name` (which is then its escaped form).
    private func setAside(_ name: String, source: FileName? = nil, code: ReasonCode, detail: String, now: Int64, report: inout PassReport) throws(SpoolTrouble) {
        let reason = QuarantineReason(code: code.rawValue, detail: detail, line: nil, sha256: nil, size: nil,
                                      time: Timestamp.utcText(epochSeconds: now), original: name)
        do {
            let moved = try quarantine.moveFile(name, source: source, reason: reason)
            try syncDirectories()
            report.setAside.append(.init(file: name, line: nil, rejection: Rejection(code, detail), quarantinedAs: moved))
        } catch let error as SystemError {
            throw .system(error)
        } catch {
            throw .system(SystemError(errno: EIO, operation: "quarantine", path: name))
        }
    }

    /// Sets aside, unread, the entries of `entries` whose names are not
    /// UTF-8, and returns the names of the others, to be processed.
    ///
    /// Such a name cannot be written into a log, a reply or the ledger, and
    /// its file can only be reached by the name's bytes: it is renamed into
    /// quarantine/ under its escaped form (`FileName.escaped`), with reason
    /// `name-not-utf8`, whence `strikectl requeue` has it read under that
    /// name. Read as it was, decoded with replacement characters, the name
    /// opened nothing (ENOENT), and the file was taken for gone and left in
    /// incoming/ for ever, unlogged. Names the spool ignores (hidden and
    /// temporary ones) are ignored, and directories left, as elsewhere.
    public func setAsideUndecodable(_ entries: [FileName], now: Int64) throws(SpoolTrouble) -> [String] {
        var names: [String] = []
        names.reserveCapacity(entries.count)
        var report = PassReport()
        for entry in entries {
            if case .text(let name) = entry {
                names.append(name)
                continue
            }
            let escaped = entry.escaped
            if SpoolName(escaped) == .ignore { continue }
            if let info = try? Sys.lstatat(layout.incomingFD, entry), info.isDirectory {
                report.skipped.append(escaped)
                continue
            }
            let detail = "the file's name is not UTF-8 (perhaps a Windows code page's, from a USB stick), so it cannot be shown in logs and replies; it was set aside unread under its name with those bytes written %XX: requeue it under that name to have it read"
            try setAside(escaped, source: entry, code: .nameNotUTF8, detail: detail, now: now, report: &report)
        }
        if !report.setAside.isEmpty || !report.skipped.isEmpty { reporter?(report) }
        return names
    }
}

/// One-message files opened and read on another thread, in order: each
/// file's `MessageFileReader.open` outcome, its copy read (`readWhole`).
/// The thread that reads them is done when `done` is; only then does the
/// spool's thread look at `outcomes`, so the two never touch them at once.
private final class ReadAheadRun: @unchecked Sendable {
    let names: [String]
    let done = DispatchGroup()
    private var outcomes: [Result<MessageFileReader.Opened, SystemError>?]

    init(names: [String]) {
        self.names = names
        outcomes = Array(repeating: nil, count: names.count)
    }

    func read(in directory: Int32, display: String, policy: ValidationPolicy, limits: FileLimits) {
        for (index, name) in names.enumerated() {
            let outcome = Result { () throws(SystemError) -> MessageFileReader.Opened in
                try MessageFileReader.open(at: directory, name, display: display + "/" + name, lines: false, policy: policy, limits: limits)
            }
            if case .success(.reader(let reader)) = outcome { reader.readWhole() }
            outcomes[index] = outcome
        }
    }

    /// The outcome for `names[index]`, handed over once (after `done`).
    func take(_ index: Int) -> Result<MessageFileReader.Opened, SystemError>? {
        defer { outcomes[index] = nil }
        return outcomes[index]
    }
}
