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
}
