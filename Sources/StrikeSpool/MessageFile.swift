#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Dispatch
import Synchronization
import StrikeCore
import StrikeOS

// SECURITY: files come from couriers and sync tools. They are opened without
// following symlinks and without blocking on FIFOs, checked to be regular files
// with fstat, and read in bounded blocks: a `.jsonl` of any size, or a sparse
// multi-GB file, never makes memory grow beyond one block plus one message
// (plus, with read-ahead, the one chunk of copies its caller asked for).

/// One copy read from a file.
public struct FileCopy: Sendable {
    /// 1-based line in a `.jsonl`; nil for a one-message file.
    public let line: Int?
    public let reading: CopyReading
    /// The file offset just past this copy (and its newline): where to resume.
    public let endOffset: Int64
    /// The copy's bytes, for quarantining a bad line; nil when it was too
    /// large to keep.
    public let raw: [UInt8]?
    /// For a line of a `.jsonl`: SHA-256 of the file's bytes up to
    /// `endOffset`, not yet finalized, computed as the lines were cut (the
    /// spool keeps its digest, to resume the file only while those bytes
    /// are still there).
    public var prefix: Prefix?

    /// A SHA-256 state in the middle of a file. swift-crypto does not mark
    /// `SHA256` Sendable; it is a value (its context copied on write), and a
    /// copy is handed from the read-ahead thread to the spool's, never shared.
    public struct Prefix: @unchecked Sendable {
        public var hasher: SHA256
    }

    /// For a copy that did not read as JSON: whether its bytes simply ended
    /// too early, as a file still being written (or cut short) does.
    public var endedEarly: Bool {
        guard let raw, let code = reading.rejection?.code, code == .json || code == .utf8 else { return false }
        do {
            _ = try JSONReader.read(raw)
            return false
        } catch {
            return error.endedEarly
        }
    }
}

/// Limits on what a file may make strikecd read.
public struct FileLimits: Sendable, Equatable {
    /// Files larger than this are quarantined as `too-large` unread.
    public var maximumFileBytes: Int64
    /// Bytes read per system call.
    public var blockBytes: Int

    public init(maximumFileBytes: Int64 = 1 << 30, blockBytes: Int = 1 << 20) {
        self.maximumFileBytes = maximumFileBytes
        self.blockBytes = blockBytes
    }
}

/// Reads the copies of one message file, a few at a time.
public final class MessageFileReader {
    public enum Opened {
        case reader(MessageFileReader)
        /// Not a regular file: a symlink, FIFO, socket, device or directory.
        case notRegular(String)
        /// Larger than `FileLimits.maximumFileBytes`; not read as a message.
        /// The identity is a digest of the whole content (`WholeFileDigest`).
        case tooLarge(size: Int64, identity: CopyReading.Identity)
    }

    public let display: String
    public let info: stat
    private let fd: Int32
    private let lines: Bool
    private let policy: ValidationPolicy
    private let blockBytes: Int
    private var pending: [UInt8] = []
    /// File offset of `pending[0]`.
    private var pendingOffset: Int64
    private var lineNumber: Int
    private var atEOF = false
    private var finishedSingle = false
    /// SHA-256 of the bytes of a `.jsonl` cut into lines so far, from its
    /// start (up to `pendingOffset`).
    private var consumed = SHA256()

    /// How much of a `.jsonl` to read and parse ahead, on another thread,
    /// while the caller works on the copies it was given: at most this many
    /// copies, and stopping once their bytes reach `bytes`. Nil: none.
    ///
    /// Why: the spool commits a batch to SQLite on its one thread, and
    /// reading the next batch's lines (JSON, validation, the canonical form)
    /// waited for it; read ahead, it runs on the other core meanwhile
    /// (docs/performance.md). What is read ahead and not taken (the caller
    /// stops early, or drops the reader) was never handed out, so it is read
    /// again later, as if it had never been read.
    public var readAhead: (copies: Int, bytes: Int)?
    /// Copies read ahead, in file order, not yet handed out.
    private var ahead: [FileCopy] = []
    /// The read-ahead in flight. While it runs it alone uses the reading
    /// state (`pending`, offsets, `atEOF`, the file offset): every method
    /// that touches that state first waits for it (`finishReadAhead`).
    private var inFlight: DispatchGroup?
    private var aheadFailure: SystemError?
    /// Control lines met while cutting lines, possibly on the read-ahead thread.
    private let controls = Mutex<[(line: Int, control: ControlLine)]>([])

    /// Opens `name` inside `dirfd`. `startOffset`/`startLine` resume a
    /// `.jsonl` where an earlier, interrupted pass stopped.
    public static func open(
        at dirfd: Int32, _ name: String, display: String, lines: Bool, policy: ValidationPolicy,
        limits: FileLimits = FileLimits(), startOffset: Int64 = 0, startLine: Int = 0
    ) throws(SystemError) -> Opened {
        // Never open a device node: opening one can act (a tape rewinds, a
        // terminal hangs up). A swap between this lstat and the open is caught
        // by the fstat below; only root can make device nodes anyway.
        if let before = try? Sys.lstatat(dirfd, name, display: display), (before.st_mode & S_IFMT) == S_IFCHR || (before.st_mode & S_IFMT) == S_IFBLK {
            return .notRegular(before.typeName)
        }
        let fd: Int32
        do {
            fd = try Sys.openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, display: display)
        } catch where error.errno == ELOOP {
            return .notRegular("symbolic link")
        } catch where error.errno == ENXIO || error.errno == EOPNOTSUPP {
            return .notRegular("socket")
        }
        let info: stat
        do {
            info = try Sys.fstat(fd, path: display)
        } catch {
            Sys.close(fd)
            throw error
        }
        guard info.isRegularFile else {
            Sys.close(fd)
            return .notRegular(info.typeName)
        }
        if Int64(info.st_size) > limits.maximumFileBytes {
            defer { Sys.close(fd) }
            let identity = try WholeFileDigest.identity(of: fd, size: Int64(info.st_size), display: display)
            return .tooLarge(size: Int64(info.st_size), identity: identity)
        }
        if startOffset > 0 {
            guard lseek(fd, off_t(startOffset), SEEK_SET) == startOffset else {
                let code = errno
                Sys.close(fd)
                throw SystemError(errno: code, operation: "lseek", path: display)
            }
        }
        return .reader(MessageFileReader(fd: fd, info: info, display: display, lines: lines, policy: policy,
                                         blockBytes: limits.blockBytes, offset: startOffset, line: startLine))
    }

    private init(fd: Int32, info: stat, display: String, lines: Bool, policy: ValidationPolicy, blockBytes: Int, offset: Int64, line: Int) {
        self.fd = fd
        self.info = info
        self.display = display
        self.lines = lines
        self.policy = policy
        self.blockBytes = blockBytes
        self.pendingOffset = offset
        self.lineNumber = line
    }

    deinit { Sys.close(fd) }

    /// Continues a `.jsonl` from where an earlier pass stopped; `prefix` is
    /// the digest state of its bytes up to `offset`.
    public func seek(to offset: Int64, line: Int, prefix: SHA256) throws(SystemError) {
        finishReadAhead()
        ahead = []
        aheadFailure = nil
        guard lseek(fd, off_t(offset), SEEK_SET) == offset else {
            throw SystemError(errno: errno, operation: "lseek", path: display)
        }
        pending = []
        pendingOffset = offset
        lineNumber = line
        atEOF = false
        consumed = prefix
    }

    /// Adds the file's bytes from `start` to `end` to `hasher`, reading them
    /// at their place (the reading position, and a read-ahead in flight, are
    /// untouched). False when the file ends before `end`.
    public func hash(into hasher: inout SHA256, from start: Int64, to end: Int64) throws(SystemError) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset = start
        while offset < end {
            let want = Int(min(Int64(buffer.count), end - offset))
            var failure: SystemError?
            let count = buffer.withUnsafeMutableBytes { raw in
                do throws(SystemError) {
                    return try Sys.pread(fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<want]), at: offset, path: display)
                } catch {
                    failure = error
                    return 0
                }
            }
            if let failure { throw failure }
            hasher.update(data: buffer[0..<count])
            offset += Int64(count)
            if count < want { return false }
        }
        return true
    }

    /// Up to `limit` more copies; empty at the end of the file.
    public func next(limit: Int) throws(SystemError) -> [FileCopy] {
        finishReadAhead()
        if let failure = aheadFailure {
            aheadFailure = nil
            throw failure
        }
        guard lines else {
            // Read already by `readWhole()`, on the thread that opened it.
            if !ahead.isEmpty {
                defer { ahead = [] }
                return ahead
            }
            return try nextSingle()
        }
        let copies: [FileCopy]
        if ahead.isEmpty {
            copies = try nextLines(limit: limit)
        } else if ahead.count <= limit {
            copies = ahead
            ahead = []
        } else {
            copies = Array(ahead.prefix(limit))
            ahead.removeFirst(limit)
        }
        startReadAhead()
        return copies
    }

    // MARK: - Read-ahead

    /// Reads a one-message file's copy now, on the calling thread, for the
    /// first `next` to hand out (or the error, for it to throw): for a file
    /// opened and read on another thread ahead of its turn.
    public func readWhole() {
        precondition(!lines, "readWhole() is for one-message files")
        do throws(SystemError) {
            ahead = try nextSingle()
        } catch {
            aheadFailure = error
        }
    }

    /// Sets `readAhead` and starts reading the first chunk now, before the
    /// first `next(limit:)`: for a file opened while a batch commits.
    public func startReadingAhead(copies: Int, bytes: Int) {
        readAhead = (copies: copies, bytes: bytes)
        startReadAhead()
    }

    /// Starts reading the next chunk on another thread, when asked for,
    /// when the last one is taken, and when the file has more.
    private func startReadAhead() {
        guard let (limit, bytes) = readAhead, ahead.isEmpty, inFlight == nil, !(atEOF && pending.isEmpty) else { return }
        let group = DispatchGroup()
        inFlight = group
        // The reader is handed to the other thread whole: until `group`
        // is done, this thread only waits for it (`finishReadAhead`), and
        // the group's wait orders the two threads' accesses.
        let reader = HandedOver(self)
        // Default QoS, not .userInitiated: libdispatch gives each new worker
        // thread a nice value to match its QoS (-2 for .userInitiated), which
        // a daemon without CAP_SYS_NICE may not take: EACCES, and "Failed to
        // set thread priority for worker thread" in the journal whenever a
        // worker was made anew, as at the rescan after each reload.
        DispatchQueue.global().async(group: group) {
            do throws(SystemError) {
                reader.value.ahead = try reader.value.nextLines(limit: limit, bytes: bytes)
            } catch {
                reader.value.aheadFailure = error
            }
        }
    }

    /// Waits for the read-ahead in flight, if any.
    private func finishReadAhead() {
        guard let group = inFlight else { return }
        group.wait()
        inFlight = nil
    }

    // MARK: - One message per file

    private func nextSingle() throws(SystemError) -> [FileCopy] {
        if finishedSingle { return [] }
        finishedSingle = true
        let maximum = ValidationPolicy.maximumMessageBytes
        var hasher: SHA256?
        var total: Int64 = 0
        var bytes: [UInt8] = []
        while true {
            let block = try readBlock()
            if block.isEmpty { break }
            total += Int64(block.count)
            if hasher == nil, bytes.count + block.count > maximum {
                // Too large to be a message: keep hashing, stop keeping.
                var fresh = SHA256()
                fresh.update(data: [UInt8(ascii: "b")])
                fresh.update(data: bytes)
                hasher = fresh
                bytes = []
            }
            if hasher != nil { hasher!.update(data: block) } else { bytes.append(contentsOf: block) }
        }
        if let hasher {
            let reading = CopyReading(
                identity: .bytesDigest(Array(hasher.finalize())), envelope: nil,
                verdict: .failure(Rejection(.tooLarge, "message is \(total) bytes; the limit is \(maximum) (64 KiB)"))
            )
            return [FileCopy(line: nil, reading: reading, endOffset: total, raw: nil)]
        }
        return [FileCopy(line: nil, reading: MessageReader.read(bytes, policy: policy), endOffset: total, raw: bytes)]
    }

    // MARK: - One message per line

    /// Up to `limit` copies, stopping early once their bytes reach `bytes`.
    /// The lines are cut first and validated together (`readings`).
    private func nextLines(limit: Int, bytes budget: Int = .max) throws(SystemError) -> [FileCopy] {
        // In file order: a line to validate, or a copy already made (a line
        // too long to be a message).
        enum Cut {
            case line(number: Int, raw: [UInt8], end: Int64, prefix: SHA256)
            /// The copy at this index of `made`.
            case made(Int)
        }
        var found: [Cut] = []
        var made: [FileCopy] = []
        var taken = 0
        let maximum = ValidationPolicy.maximumMessageBytes
        // Lines are taken from `pending` by moving `start` forward, and the
        // consumed prefix is dropped once per block: removing each line from
        // the front of a 1 MiB block would move the rest of it every time.
        var start = 0
        defer { if start > 0 { pending.removeSubrange(0..<start) } }
        while found.count < limit, taken < budget {
            if let newline = pending[start...].firstIndex(of: 0x0A) {
                lineNumber += 1
                let line = pending[start..<newline]
                let end = pendingOffset + Int64(newline + 1 - start)
                consumed.update(data: pending[start...newline])
                if !isBlank(line) {
                    if let raw = takeControl(line) {
                        found.append(.line(number: lineNumber, raw: raw, end: end, prefix: consumed))
                        taken += line.count
                    }
                }
                start = newline + 1
                pendingOffset = end
                continue
            }
            if start > 0 {
                pending.removeSubrange(0..<start)
                start = 0
            }
            if pending.count > maximum {
                made.append(try oversizedLine())
                found.append(.made(made.count - 1))
                continue
            }
            if atEOF {
                if !pending.isEmpty {
                    lineNumber += 1
                    let end = pendingOffset + Int64(pending.count)
                    consumed.update(data: pending)
                    if !isBlank(pending[...]), let raw = takeControl(pending[...]) {
                        found.append(.line(number: lineNumber, raw: raw, end: end, prefix: consumed))
                    }
                    pending = []
                    pendingOffset = end
                }
                break
            }
            let block = try readBlock()
            if block.isEmpty { atEOF = true } else { pending.append(contentsOf: block) }
        }
        let lines = found.compactMap { cut in if case .line(_, let raw, _, _) = cut { raw } else { nil } }
        var readings = Self.readings(of: lines, policy: policy).makeIterator()
        return found.map { cut in
            switch cut {
            case .line(let number, let raw, let end, let prefix):
                FileCopy(line: number, reading: readings.next()!, endOffset: end, raw: raw, prefix: FileCopy.Prefix(hasher: prefix))
            case .made(let index): made[index]
            }
        }
    }

    /// The bytes of the copy a line holds: the line itself, or the copy a
    /// `copy` control line frames; nil for another control line, which is
    /// kept for `takeControls` instead (docs/federation.md). A line with the
    /// control prefix that is no well-formed control line is a copy, and is
    /// judged (and rejected) as one.
    private func takeControl(_ line: ArraySlice<UInt8>) -> [UInt8]? {
        guard ControlLine.isControl(line), let control = ControlLine.read(line) else { return Array(line) }
        if case .copy(let bytes) = control { return bytes }
        controls.withLock { [lineNumber] in $0.append((lineNumber, control)) }
        return nil
    }

    /// The control lines read so far (also by reading ahead), handed over
    /// once. Lines read ahead and not taken are read again later, so a
    /// control line can be handed over twice: each is idempotent.
    public func takeControls() -> [(line: Int, control: ControlLine)] {
        controls.withLock { taken in
            defer { taken = [] }
            return taken
        }
    }

    /// Each line validated as a message. When signatures are checked, on
    /// every core at once, in runs of lines: an Ed25519 check costs about
    /// 80 µs, three times the rest of a message's work, and on one thread it
    /// held a `.jsonl` drop to a third of its unsigned speed
    /// (docs/performance.md). Without signatures one thread keeps ahead of
    /// the writer, and leaves it the other core.
    static func readings(of lines: [[UInt8]], policy: ValidationPolicy) -> [CopyReading] {
        let run = 128
        guard policy.signatures.policy != .off, lines.count > run else {
            return lines.map { MessageReader.read($0, policy: policy) }
        }
        return Array(unsafeUninitializedCapacity: lines.count) { buffer, count in
            // Each run initializes its own elements; concurrentPerform
            // returns once every run is done.
            nonisolated(unsafe) let shared = buffer
            DispatchQueue.concurrentPerform(iterations: (lines.count + run - 1) / run) { chunk in
                for index in chunk * run..<min(lines.count, (chunk + 1) * run) {
                    (shared.baseAddress! + index).initialize(to: MessageReader.read(lines[index], policy: policy))
                }
            }
            count = lines.count
        }
    }

    /// A line longer than any message: hash it through to its newline.
    private func oversizedLine() throws(SystemError) -> FileCopy {
        lineNumber += 1
        var hasher = SHA256()
        hasher.update(data: [UInt8(ascii: "b")])
        var length: Int64 = 0
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                hasher.update(data: pending[0..<newline])
                consumed.update(data: pending[0...newline])
                length += Int64(newline)
                let end = pendingOffset + Int64(newline + 1)
                pending.removeSubrange(0...newline)
                pendingOffset = end
                break
            }
            hasher.update(data: pending)
            consumed.update(data: pending)
            length += Int64(pending.count)
            pendingOffset += Int64(pending.count)
            pending = []
            let block = try readBlock()
            if block.isEmpty { atEOF = true; break }
            pending = block
        }
        let reading = CopyReading(
            identity: .bytesDigest(Array(hasher.finalize())), envelope: nil,
            verdict: .failure(Rejection(.tooLarge, "line is \(length) bytes; the limit is \(ValidationPolicy.maximumMessageBytes) (64 KiB)"))
        )
        return FileCopy(line: lineNumber, reading: reading, endOffset: pendingOffset, raw: nil, prefix: FileCopy.Prefix(hasher: consumed))
    }

    private func readBlock() throws(SystemError) -> [UInt8] {
        // Sized to the file (plus a byte to see the end, or growth) rather than
        // the block size: most files are a few hundred bytes.
        let size = Int(min(Int64(blockBytes), max(Int64(4096), Int64(info.st_size) - pendingOffset + 1)))
        var block = [UInt8](repeating: 0, count: size)
        var failure: SystemError?
        let count = block.withUnsafeMutableBytes { raw in
            do throws(SystemError) {
                return try Sys.retrying("read", path: display) { Glibc.read(fd, raw.baseAddress!, raw.count) }
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
        block.removeSubrange(count...)
        return block
    }

    private func isBlank(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}

/// A reader lent to the read-ahead's thread (`MessageFileReader.startReadAhead`),
/// which alone uses it until its group is done.
private struct HandedOver: @unchecked Sendable {
    let value: MessageFileReader

    init(_ value: MessageFileReader) {
        self.value = value
    }
}
