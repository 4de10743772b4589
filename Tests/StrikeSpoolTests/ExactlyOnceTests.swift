import Foundation
import StrikeCore
import StrikeOS
import StrikeSpool
import StrikeStore
import TestSupport
import Testing

/// A `.jsonl` in progress, rewritten or appended to; failures after COMMIT;
/// file times a writer sets. None may lose a copy or count one twice.
@Suite struct ExactlyOnceTests {
    static func lines(_ seqs: ClosedRange<Int>) -> String {
        seqs.map { DisposalTests.message($0) + "\n" }.joined()
    }

    /// Writes `text` at `path` in place: truncating an existing file keeps
    /// its inode, as `cp` does.
    static func write(_ text: String, to path: String, append: Bool = false) throws {
        let fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0o644)
        guard fd >= 0 else { throw SystemError(errno: errno, operation: "open", path: path) }
        defer { close(fd) }
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    /// `cp a.jsonl incoming/r.jsonl` (its lines applied; it waits out the
    /// grace period), then `cp b.jsonl incoming/r.jsonl` over it: every
    /// line of b is read, none skipped for the bytes a had.
    @Test func aJsonlRewrittenInPlaceWhileInProgressIsReadAfresh() throws {
        let dir = TemporaryDirectory()
        let layout = try SpoolLayout(root: dir.path + "/spool")
        let store = try Store(path: dir.path + "/state.sqlite")
        let processor = try SpoolProcessor(layout: layout, store: store, settings: SpoolProcessor.Settings())
        let path = layout.incoming + "/r.jsonl"
        try Self.write(Self.lines(1...3), to: path)
        let first = try processor.process(["r.jsonl"], now: Sys.now()) { false }
        #expect(first.applied == 3 && first.waiting["r.jsonl"] != nil)

        // Longer than a, so that resuming at a's end would skip b's first lines.
        try Self.write(Self.lines(10...15), to: path)
        let second = try processor.process(["r.jsonl"], now: Sys.now() + 60) { false }
        #expect(second.applied == 6)
        #expect(second.rewritten == ["r.jsonl"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: layout.incoming).isEmpty)
        #expect(try store.summary().messages.applied == 9)

        // Shorter than a: before, it was taken as done and removed unread.
        try Self.write(Self.lines(20...21), to: path)
        _ = try processor.process(["r.jsonl"], now: Sys.now()) { false }
        try Self.write(Self.lines(30...30), to: path)
        let third = try processor.process(["r.jsonl"], now: Sys.now() + 60) { false }
        #expect(third.applied == 1 && third.rewritten == ["r.jsonl"])
        #expect(try store.summary().messages.applied == 12)
    }

    /// Lines appended to a `.jsonl` in progress are read from where it
    /// stopped, in the same run and after a restart: no copy twice.
    @Test func aJsonlAppendedToResumesWhereItStopped() throws {
        let dir = TemporaryDirectory()
        let layout = try SpoolLayout(root: dir.path + "/spool")
        let store = try Store(path: dir.path + "/state.sqlite")
        var processor = try SpoolProcessor(layout: layout, store: store, settings: SpoolProcessor.Settings())
        let path = layout.incoming + "/log.jsonl"
        try Self.write(Self.lines(1...3), to: path)
        #expect(try processor.process(["log.jsonl"], now: Sys.now()) { false }.applied == 3)
        try Self.write(Self.lines(4...5), to: path, append: true)
        let appended = try processor.process(["log.jsonl"], now: Sys.now()) { false }
        #expect(appended.applied == 2 && appended.duplicates == 0 && appended.rewritten.isEmpty)

        // A new run knows only the ledger: the digest of what was read.
        processor = try SpoolProcessor(layout: layout, store: store, settings: SpoolProcessor.Settings())
        try Self.write(Self.lines(6...6), to: path, append: true)
        let resumed = try processor.process(["log.jsonl"], now: Sys.now() + 60) { false }
        #expect(resumed.applied == 1 && resumed.duplicates == 0 && resumed.rewritten.isEmpty)
        let messages = try store.summary().messages
        #expect(messages.applied == 6 && messages.duplicates == 0)
    }

    /// Writing a committed batch's bad lines into quarantine/ fails (the
    /// disk is full): what was counted stands, the reporter (Watch, the
    /// journal) hears of the batch, and the retry counts nothing again.
    @Test(.enabled(if: Tmpfs.isAvailable, "needs root to mount a tmpfs"))
    func aFailureAfterCommitChangesNothingCounted() throws {
        let dir = TemporaryDirectory()
        let quarantine = dir.path + "/spool/quarantine"
        try FileManager.default.createDirectory(atPath: quarantine, withIntermediateDirectories: true)
        let disk = try Tmpfs(at: quarantine, options: "size=256k,nr_inodes=64")
        let layout = try SpoolLayout(root: dir.path + "/spool")
        let store = try Store(path: dir.path + "/state.sqlite")
        let processor = try SpoolProcessor(layout: layout, store: store, settings: SpoolProcessor.Settings())
        nonisolated(unsafe) var heard = PassReport()
        processor.reporter = { report in
            heard.applied += report.applied
            heard.copies += report.copies
            heard.changes += report.changes
        }
        try Self.write(Self.lines(1...3) + "{broken\n" + Self.lines(4...6) + "{broken too\n", to: layout.incoming + "/d.jsonl")
        let fillers = disk.fill(quarantine)
        #expect(!fillers.isEmpty)

        #expect(throws: SpoolTrouble.self) { try processor.process(["d.jsonl"], now: Sys.now() + 60) { false } }
        #expect(heard.applied == 6 && heard.copies == 8 && heard.changes.count >= 6)
        var messages = try store.summary().messages
        #expect(messages.applied == 6 && messages.rejected == 2 && messages.duplicates == 0)

        // Room again: the same processor finishes the work, counting nothing twice.
        for filler in fillers { unlink(filler) }
        let retry = try processor.process(["d.jsonl"], now: Sys.now() + 60) { false }
        #expect(retry.copies == 0)
        messages = try store.summary().messages
        #expect(messages.applied == 6 && messages.rejected == 2 && messages.duplicates == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: layout.incoming).isEmpty)
        let kept = try FileManager.default.contentsOfDirectory(atPath: quarantine)
        #expect(kept.filter { !$0.hasSuffix(".reason") }.count == 2, "\(kept)")
    }

    /// File times are input: a writer may date its file to the year 2920, or
    /// to -2^63+1 s on tmpfs. Nothing traps; each file is judged by when it
    /// really last changed (its change time, if its modification time is
    /// later).
    @Test(.enabled(if: Tmpfs.isAvailable, "needs root to mount a tmpfs"))
    func fileTimesAtTheEdgesOfSixtyFourBits() throws {
        let dir = TemporaryDirectory()
        let incoming = dir.path + "/spool/incoming"
        try FileManager.default.createDirectory(atPath: incoming, withIntermediateDirectories: true)
        let disk = try Tmpfs(at: incoming, options: "size=8m,mode=1730")
        _ = disk
        let layout = try SpoolLayout(root: dir.path + "/spool")
        let store = try Store(path: dir.path + "/state.sqlite")
        let processor = try SpoolProcessor(layout: layout, store: store, settings: SpoolProcessor.Settings())
        let times = ["far.json": 30_000_000_000, "past.jsonl": -9_223_372_036_854_775_807, "far.jsonl": 30_000_000_000,
                     "broken.json": 30_000_000_000, "max.jsonl": Int.max]
        try Self.write(DisposalTests.message(1), to: incoming + "/far.json")
        try Self.write(Self.lines(2...3), to: incoming + "/past.jsonl")
        try Self.write(Self.lines(4...5), to: incoming + "/far.jsonl")
        try Self.write("{broken", to: incoming + "/broken.json")
        try Self.write(Self.lines(6...6), to: incoming + "/max.jsonl")
        for (name, seconds) in times { try setFileTimes(incoming + "/" + name, seconds: seconds) }
        let names = times.keys.sorted()

        let now = try processor.process(names, now: Sys.now()) { false }
        #expect(now.applied == 6)
        // Changed just now, whatever they claim: they wait out the grace period.
        #expect(Set(now.waiting.keys) == ["broken.json", "far.jsonl", "max.jsonl"])
        #expect(now.waiting.values.allSatisfy { $0 <= Sys.now() + 5 })
        let later = try processor.process(names, now: Sys.now() + 60) { false }
        #expect(later.rejected.count == 1 && later.waiting.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: incoming).isEmpty)
        #expect(try store.summary().messages.applied == 6)
    }
}
