import Foundation
import StrikeCore
import TestSupport
import Testing

/// Reason files and copies in quarantine/, and `strikectl requeue`, through
/// the real daemon.
@Suite(.serialized) struct QuarantineEndToEndTests {
    static let junk = #"{"v":1,"origin":"mtz"}"#

    /// A copy named `a.reason` keeps its bytes when `a` is quarantined after
    /// it, and can be requeued (it was refused as a reason file's name);
    /// a quarantine written by an earlier version (`old.json.reason` beside
    /// `old.json`) still works: the old reason is no copy, and goes with its
    /// copy when that is requeued.
    @Test func reasonFilesAndCopiesNeverMeet() throws {
        let fixture = try DaemonFixture()
        try FileManager.default.createDirectory(atPath: fixture.quarantine, withIntermediateDirectories: true)
        try Self.junk.replacingOccurrences(of: "mtz", with: "old").write(toFile: fixture.quarantine + "/old.json", atomically: false, encoding: .utf8)
        try #"{"code":"missing-field","detail":"","original":"old.json"}"#.write(
            toFile: fixture.quarantine + "/old.json.reason", atomically: false, encoding: .utf8)
        let socket = fixture.directory.path + "/socket"
        try fixture.start(extra: ["--socket", socket])

        let first = Self.junk.replacingOccurrences(of: "mtz", with: "first")
        try dropAtomically(Array(first.utf8), name: "a.reason", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("a.reason to be quarantined") { fixture.names(fixture.quarantine).contains(".a.reason.reason") }
        try dropAtomically(Array(Self.junk.utf8), name: "a", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("a to be quarantined") { fixture.names(fixture.quarantine).contains(".a.reason") }
        #expect(try String(contentsOfFile: fixture.quarantine + "/a.reason", encoding: .utf8) == first)
        #expect(reasonCode(fixture, "a") == "missing-field")

        let requeued = try runCommand(Binaries.strikectl, ["requeue", "--socket", socket, "a.reason"])
        #expect(requeued.status == 0, "\(requeued.stderr)")
        #expect(requeued.stdout.contains("back in incoming/ as a.reason"), "\(requeued.stdout)")
        // Judged afresh: rejected again, quarantined again under its name.
        try waitUntil("a.reason to be judged again") {
            fixture.names(fixture.incoming).isEmpty && fixture.names(fixture.quarantine).contains(".a.reason.reason")
        }
        #expect(try String(contentsOfFile: fixture.quarantine + "/a.reason", encoding: .utf8) == first)

        let refused = try runCommand(Binaries.strikectl, ["requeue", "--socket", socket, "old.json.reason"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("is the reason file of the quarantined copy \"old.json\""), "\(refused.stderr)")
        let old = try runCommand(Binaries.strikectl, ["requeue", "--socket", socket, "old.json"])
        #expect(old.status == 0, "\(old.stderr)")
        try waitUntil("old.json to be judged again") {
            fixture.names(fixture.incoming).isEmpty && fixture.names(fixture.quarantine).contains(".old.json.reason")
        }
        #expect(!fixture.names(fixture.quarantine).contains("old.json.reason"), "the old reason went with its copy")
        #expect(reasonCode(fixture, "old.json") == "missing-field")
        #expect(fixture.stop() == 0)
    }

    /// A file over max_file_size, requeued, was deleted as a duplicate of
    /// itself (requeue looked for it under another identity than the one
    /// it was counted under) instead of being judged afresh.
    @Test func aRequeuedOversizedFileIsJudgedAfresh() throws {
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\nmax_file_size: 64KiB\n")
        let socket = fixture.directory.path + "/socket"
        try fixture.start(extra: ["--socket", socket])
        try dropAtomically([UInt8](repeating: UInt8(ascii: "x"), count: 100 << 10), name: "big.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("big.json to be quarantined") { fixture.names(fixture.quarantine).contains(".big.json.reason") }
        #expect(reasonCode(fixture, "big.json") == "too-large")
        let requeued = try runCommand(Binaries.strikectl, ["requeue", "--socket", socket, "big.json"])
        #expect(requeued.status == 0, "\(requeued.stderr)")
        try waitUntil("big.json to be judged again") {
            fixture.names(fixture.incoming).isEmpty && fixture.names(fixture.quarantine).contains(".big.json.reason")
        }
        #expect(fixture.names(fixture.quarantine).contains("big.json"))
        let summary = try fixture.summary()
        #expect(summary.contains("\"duplicates\":0,\"rejected\":1"), "forgotten, then rejected again: \(summary)")
        #expect(fixture.stop() == 0)
    }
}
