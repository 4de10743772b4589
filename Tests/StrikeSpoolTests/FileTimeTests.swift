import Foundation
import StrikeCore
import StrikeOS
@testable import StrikeSpool
import StrikeStore
import TestSupport
import Testing

/// Whoever drops a file chooses its modification time: none may stop the spool.
@Suite struct FileTimeTests {
    /// Sets a file's modification time to `seconds` since the epoch.
    static func setModified(_ path: String, seconds: Int) throws {
        var times = [timespec(tv_sec: seconds, tv_nsec: 999_999_999), timespec(tv_sec: seconds, tv_nsec: 999_999_999)]
        guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw SystemError(errno: errno, operation: "utimensat", path: path) }
    }

    /// Files from the year 2300 and 2400 (past 2262 their nanoseconds leave
    /// 64 bits; before, the spool trapped when it disposed of them), one of
    /// them a .jsonl that looks young for ever: read, applied, no trap.
    @Test func filesFromFarFutureTimesAreRead() throws {
        let dir = TemporaryDirectory()
        let layout = try SpoolLayout(root: dir.path + "/spool")
        let store = try Store(path: dir.path + "/state.sqlite")
        let processor = try SpoolProcessor(layout: layout, store: store, settings: SpoolProcessor.Settings())
        try DisposalTests.drop(DisposalTests.message(1), as: "a.json", in: layout)
        try DisposalTests.drop(DisposalTests.message(2) + "\n", as: "b.jsonl", in: layout)
        let year2300 = 10_413_792_000, year2400 = 13_569_465_600
        try Self.setModified(layout.incoming + "/a.json", seconds: year2300)
        try Self.setModified(layout.incoming + "/b.jsonl", seconds: year2400)
        var info = stat()
        #expect(stat(layout.incoming + "/a.json", &info) == 0)
        #expect(info.st_mtim.tv_sec == year2300, "the file system keeps times past 2262")
        let report = try processor.process(["a.json", "b.jsonl"], now: Sys.now()) { false }
        #expect(report.applied == 2)
        #expect(try store.summary().messages.applied == 2)
        // A modification time later than the change time was set by hand: the
        // .jsonl waits out the grace period from its last real write, not 2400.
        let now = Sys.now()
        #expect(report.waiting["b.jsonl"].map { $0 >= now && $0 <= now + 60 } == true, "\(report.waiting)")
    }

    @Test(arguments: [
        (0, 0, Int64(0)), (1, 5, 1_000_000_005), (-1, 0, -1_000_000_000),
        (9_223_372_036, 854_775_807, Int64.max), (9_223_372_036, 854_775_808, Int64.max), (9_223_372_037, 0, Int64.max),
        (Int.max, 999_999_999, Int64.max), (-9_223_372_037, 0, Int64.min), (Int.min, 0, Int64.min),
    ])
    func fileTimesSaturate(seconds: Int, nanoseconds: Int, expected: Int64) {
        var info = stat()
        info.st_mtim = timespec(tv_sec: seconds, tv_nsec: nanoseconds)
        info.st_ctim = info.st_mtim
        #expect(info.modifiedNanoseconds == expected)
        #expect(info.changedNanoseconds == expected)
    }

    @Test func dueTimesSaturate() {
        #expect(SpoolProcessor.adding(.max, 5) == .max)
        #expect(SpoolProcessor.adding(.min, -5) == .min)
        #expect(SpoolProcessor.adding(10, 5) == 15)
    }
}
