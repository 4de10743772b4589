import Foundation
import TestSupport
import Testing

/// A Unix datagram socket standing in for systemd's NOTIFY_SOCKET.
final class NotifyListener: @unchecked Sendable {
    let path: String
    let fd: Int32
    private(set) var messages: [String] = []

    init(path: String) {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        _ = fcntl(fd, F_SETFL, O_NONBLOCK)
    }

    /// Reads every datagram waiting; each may carry several `KEY=VALUE` lines.
    func drain() -> [String] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            messages += String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").map(String.init)
        }
        return messages
    }

    deinit { close(fd) }
}

@Suite(.serialized) struct NotifyEndToEndTests {
    /// READY=1 once scanned and listening, STATUS= with counts, WATCHDOG=1
    /// while alive, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM.
    @Test func daemonTalksToSystemd() throws {
        let fixture = try DaemonFixture()
        let listener = NotifyListener(path: fixture.directory.path + "/notify")
        let process = try RunningProcess(
            Binaries.strikecd,
            ["run", "--config", fixture.config, "--spool", fixture.spool, "--database", fixture.database,
             "--socket", fixture.directory.path + "/socket", "--log", "console"],
            log: fixture.log,
            environment: ProcessInfo.processInfo.environment.merging(
                ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "2000000"], uniquingKeysWith: { $1 })
        )
        try waitUntil("READY=1 with a status", timeout: 60) {
            let messages = listener.drain()
            return messages.contains("READY=1") && messages.contains { $0.hasPrefix("STATUS=applied 0") }
        }
        // With WatchdogSec=2s the daemon pings every second.
        try waitUntil("two watchdog pings", timeout: 10) { listener.drain().filter { $0 == "WATCHDOG=1" }.count >= 2 }

        process.signal(SIGHUP)
        try waitUntil("RELOADING=1 then READY=1 again", timeout: 20) {
            let messages = listener.drain()
            guard let reloading = messages.firstIndex(of: "RELOADING=1") else { return false }
            return messages[reloading...].contains("READY=1") && messages.contains { $0.hasPrefix("MONOTONIC_USEC=") }
        }
        process.signal(SIGTERM)
        #expect(process.waitForExit(timeout: 30) == 0)
        #expect(listener.drain().contains("STOPPING=1"))
    }

    /// A second daemon whose socket another live daemon holds must not sit
    /// there unready: it stops its spool loop, says why, sends no READY=1 and
    /// exits non-zero, so that systemd marks the start failed.
    @Test func daemonWhoseSocketIsTakenExitsAndSaysWhy() throws {
        let first = try DaemonFixture()
        let socket = first.directory.path + "/socket"
        try first.start(extra: ["--socket", socket])
        defer { _ = first.stop() }

        let second = try DaemonFixture()
        let listener = NotifyListener(path: second.directory.path + "/notify")
        let process = try RunningProcess(
            Binaries.strikecd,
            ["run", "--config", second.config, "--spool", second.spool, "--database", second.database,
             "--socket", socket, "--log", "console"],
            log: second.log,
            environment: ProcessInfo.processInfo.environment.merging(["NOTIFY_SOCKET": listener.path], uniquingKeysWith: { $1 })
        )
        let status = process.waitForExit(timeout: 60)
        #expect(status == 1, "the daemon did not exit 1 (\(status.map(String.init) ?? "still running")):\n\(process.log)")
        #expect(process.log.contains("already listening on \(socket)"), "\(process.log)")
        #expect(!listener.drain().contains("READY=1"))
        // The first daemon is untouched and still answers.
        let result = try runCommand(Binaries.strikectl, ["status", "--socket", socket, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
    }

    /// A daemon started with NOTIFY_SOCKET (and a watchdog of `watchdog`
    /// seconds), and its listener.
    static func notified(_ fixture: DaemonFixture, name: String, watchdog: Int? = nil) throws -> (RunningProcess, NotifyListener) {
        let listener = NotifyListener(path: fixture.directory.path + "/" + name)
        var environment = ProcessInfo.processInfo.environment.merging(["NOTIFY_SOCKET": listener.path], uniquingKeysWith: { $1 })
        if let watchdog { environment["WATCHDOG_USEC"] = "\(watchdog * 1_000_000)" }
        let process = try RunningProcess(
            Binaries.strikecd,
            ["run", "--config", fixture.config, "--spool", fixture.spool, "--database", fixture.database,
             "--socket", fixture.directory.path + "/socket", "--log", "console"],
            log: fixture.log, environment: environment
        )
        return (process, listener)
    }

    /// The ledger's row for a spool file: bytes and lines accounted for.
    static func progress(_ fixture: DaemonFixture, of name: String) throws -> (bytes: Int64, lines: Int)? {
        let result = try runCommand("/usr/bin/sqlite3", [
            "-cmd", ".timeout 5000", fixture.database, "SELECT done_bytes || ' ' || lines_done FROM spool_file WHERE name = '\(name)'",
        ])
        let fields = result.stdout.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let bytes = Int64(fields[0]), let lines = Int(fields[1]) else { return nil }
        return (bytes, lines)
    }

    /// A .jsonl of 1.6 million lines (about 200 MB), far more than the daemon
    /// reads in the time this test takes, against systemd's expectations:
    /// WATCHDOG=1 keeps coming while it is read, READY=1 after a kill -9 does
    /// not wait for the file, SIGTERM stops between two batches of it. And
    /// exactly once throughout: the lines counted equal the lines applied.
    @Test func longWorkKeepsTheWatchdogReadyAndStopTimely() throws {
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 60s\n")
        let staged = fixture.directory.path + "/big.jsonl"
        let lines = 1_600_000
        // awk writes it in a few seconds; one council per line, all distinct.
        let program = #"BEGIN { for (i = 1; i <= n; i++) printf "{\"v\":1,\"origin\":\"mtz\",\"seq\":%d,\"sent_at\":\"2020-08-24T09:00:00Z\",\"type\":\"council.formed\",\"data\":{\"council\":\"c%d\",\"level\":\"local\"}}\n", i, i > out }"#
        let made = try runCommand("/usr/bin/awk", ["-v", "n=\(lines)", "-v", "out=\(staged)", program])
        #expect(made.status == 0, "\(made.stderr)")
        let size = Int64(try #require(try FileManager.default.attributesOfItem(atPath: staged)[.size] as? Int))
        #expect(size > 150_000_000)

        // Watchdog: WatchdogSec=4s, so a ping every 2 s while the spool loop
        // shows signs of life; before, none came while one file was read.
        let (first, watched) = try Self.notified(fixture, name: "notify-1", watchdog: 4)
        try waitUntil("READY=1", timeout: 60) { watched.drain().contains("READY=1") }
        #expect(rename(staged, fixture.incoming + "/big.jsonl") == 0)
        try waitUntil("the first batch of big.jsonl", timeout: 60) { try Self.progress(fixture, of: "big.jsonl") != nil }
        let before = watched.drain().count
        try waitUntil("three watchdog pings while big.jsonl is read", timeout: 60) {
            watched.drain()[before...].filter { $0 == "WATCHDOG=1" }.count >= 3
        }
        #expect(fixture.names(fixture.incoming) == ["big.jsonl"], "the file was read before the test could look")
        first.signal(SIGKILL)
        _ = first.waitForExit(timeout: 10)
        let killedAt = try #require(try Self.progress(fixture, of: "big.jsonl"))

        // READY=1 does not wait for the interrupted file: it is finished after.
        let (second, listener) = try Self.notified(fixture, name: "notify-2")
        try waitUntil("READY=1 after the kill", timeout: 60) { listener.drain().contains("READY=1") }
        #expect(fixture.names(fixture.incoming) == ["big.jsonl"], "READY=1 waited for the whole file")

        // SIGTERM between batches: the daemon goes on from where the kill
        // left it, and stops before the end of the file.
        try waitUntil("progress after the restart", timeout: 60) {
            (try Self.progress(fixture, of: "big.jsonl")?.bytes ?? 0) > killedAt.bytes
        }
        second.signal(SIGTERM)
        #expect(second.waitForExit(timeout: 60) == 0)
        #expect(listener.drain().contains("STOPPING=1"))
        #expect(fixture.names(fixture.incoming) == ["big.jsonl"], "SIGTERM waited for the whole file")
        let stoppedAt = try #require(try Self.progress(fixture, of: "big.jsonl"))
        #expect(stoppedAt.bytes > killedAt.bytes && stoppedAt.bytes < size)
        let summary = try fixture.summary()
        #expect(summary.contains("\"applied\":\(stoppedAt.lines),"), "\(summary), \(stoppedAt)")
        #expect(summary.contains("\"duplicates\":0"), "\(summary)")
    }
}
