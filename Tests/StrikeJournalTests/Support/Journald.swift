import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real systemd-journald for the tests that need one.
///
/// If one already answers on /run/systemd/journal/socket (a machine booted with systemd)
/// it is used as it is. Otherwise this starts `/lib/systemd/systemd-journald` itself (root
/// needed, as on the project's machines and CI) and stops exactly that process, by its PID,
/// when the suite ends. The socket file of a stopped journald stays behind, so "running"
/// means "a datagram socket connects", not "the file exists".
struct JournaldTrait: SuiteTrait, TestScoping {
    static let binary = "/lib/systemd/systemd-journald"
    static let socketPath = "/run/systemd/journal/socket"

    func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        if Self.isAnswering() {
            try await function()
            return
        }
        let process = try Self.start()
        do {
            let up = await waitFor { Self.isAnswering() ? true : nil }
            try #require(up == true, "systemd-journald (PID \(process.processIdentifier)) did not open \(Self.socketPath)")
            try await function()
        } catch {
            Self.stop(process)
            throw error
        }
        Self.stop(process)
    }

    static func start() throws -> Process {
        try FileManager.default.createDirectory(atPath: "/run/systemd/journal", withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// SIGTERM to the PID we started, then reap it.
    static func stop(_ process: Process) {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    /// Whether something accepts datagrams on the journal socket.
    static func isAnswering() -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in socketPath.utf8.enumerated() { raw[index] = byte }
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }

    /// Journal entries (journalctl -o json) matching `FIELD=value`, as dictionaries.
    static func entries(matching match: String) throws -> [[String: Any]] {
        let result = try run("/usr/bin/journalctl", ["-o", "json", "--no-pager", "--all", match])
        return result.stdout.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }
}

extension Trait where Self == JournaldTrait {
    /// Runs the suite with a real systemd-journald (started and stopped if none runs).
    static var journald: Self { JournaldTrait() }
}
