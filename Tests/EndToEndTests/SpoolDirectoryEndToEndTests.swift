import Foundation
import StrikeCore
import TestSupport
import Testing

/// The spool's directories as an operator, or the kernel, may leave them:
/// replaced under the running daemon, or out of file descriptors.
@Suite(.serialized) struct SpoolDirectoryEndToEndTests {
    static func message(_ seq: Int) -> [UInt8] {
        Array(#"{"v":1,"origin":"mtz","seq":\#(seq),"sent_at":"2020-08-24T09:00:00Z","type":"council.formed","data":{"council":"c\#(seq)","level":"local"}}"#.utf8)
    }

    /// `rm -rf incoming; mkdir incoming`: the daemon's descriptor kept the
    /// old directory, and new files waited for a restart. The next scan
    /// sees another directory, reads it and says so.
    @Test func anIncomingDirectoryMadeAgainIsRead() throws {
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\n")
        try fixture.start()
        defer { _ = fixture.stop() }
        try dropAtomically(Self.message(1), name: "a.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("a.json to be applied") { fixture.names(fixture.incoming).isEmpty }

        try FileManager.default.removeItem(atPath: fixture.incoming)
        try waitUntil("the daemon to notice incoming/ is gone") {
            fixture.logLines().contains { $0.contains("incoming/ directory was removed or moved") }
        }
        #expect(mkdir(fixture.incoming, 0o1730) == 0 && chmod(fixture.incoming, 0o1730) == 0)
        try dropAtomically(Self.message(2), name: "b.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("b.json in the new incoming/ to be applied") { fixture.names(fixture.incoming).isEmpty }
        #expect(fixture.logLines().contains { $0.contains("was replaced by another directory; reading the new one") })
        #expect(fixture.process?.isRunning == true)
        #expect(try fixture.summary().contains("\"applied\":2,"))
    }

    /// Out of file descriptors (EMFILE) while scanning the spool: before,
    /// the scan's error ended the daemon. It is trouble of the environment
    /// like any other: the daemon backs off, retries, and reads the files
    /// once descriptors are free again.
    @Test func runningOutOfDescriptorsIsWaitedOut() throws {
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\n")
        try fixture.start()
        defer { _ = fixture.stop() }
        let pid = try #require(fixture.process?.pid)
        let limits = try runCommand("/usr/bin/prlimit", ["--pid", "\(pid)", "--nofile", "--raw", "--noheadings", "--output", "SOFT,HARD"])
        let (soft, hard) = try #require({ () -> (String, String)? in
            let fields = limits.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
            return fields.count == 2 ? (fields[0], fields[1]) : nil
        }())
        // Fewer than it has open: every new descriptor fails with EMFILE.
        #expect(try runCommand("/usr/bin/prlimit", ["--pid", "\(pid)", "--nofile=4:\(hard)"]).status == 0)
        try dropAtomically(Self.message(1), name: "a.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("the daemon to meet EMFILE in a scan") {
            fixture.logLines().filter { $0.contains("Too many open files") }.count >= 2
        }
        #expect(fixture.process?.isRunning == true, "\(fixture.logLines().suffix(10))")
        #expect(try runCommand("/usr/bin/prlimit", ["--pid", "\(pid)", "--nofile=\(soft):\(hard)"]).status == 0)
        try waitUntil("a.json to be applied once descriptors are free", timeout: 90) { fixture.names(fixture.incoming).isEmpty }
        #expect(fixture.process?.isRunning == true)
        #expect(try fixture.summary().contains("\"applied\":1,"))
    }
}
