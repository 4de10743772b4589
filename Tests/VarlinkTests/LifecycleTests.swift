import Foundation
import Logging
import StrikeCore
import StrikeServer
import StrikeStore
import Testing
import VarlinkProtocol

/// Binding, adopting and stopping.
@Suite struct LifecycleTests {
    static func makeServer(_ listen: ListenSource, in directory: TemporaryDirectory) throws -> VarlinkServer {
        let store = try Store(path: directory.path + "/state.db")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return VarlinkServer(
            configuration: ServerConfiguration(listen: listen, info: ServiceInfo(version: "0")), store: store,
            feed: ChangeFeed(), admin: nil, logger: logger)
    }

    static func getInfo(_ socket: String) async throws -> String? {
        try await offPool { try VarlinkClient(path: socket, timeoutSeconds: 10).exchange(#"{"method":"org.varlink.service.GetInfo"}"#) }
    }

    /// A socket file that nothing listens on, as a crashed daemon leaves it.
    static func staleSocket(at path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        close(fd)
    }

    @Test func aStaleSocketIsReplaced() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/socket"
        try Self.staleSocket(at: path)
        let server = try Self.makeServer(.path(path), in: directory)
        let task = Task { try await server.run() }
        try await withDeadline(seconds: 10) { try await server.waitUntilListening() }
        #expect(try await Self.getInfo(path) != nil)
        server.stop()
        try await withDeadline(seconds: 10) { try await task.value }
        #expect(access(path, F_OK) != 0, "NIO removes the socket it created")
    }

    @Test func aFileThatIsNotASocketIsLeftAlone() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/socket"
        try Data("precious".utf8).write(to: URL(fileURLWithPath: path))
        let server = try Self.makeServer(.path(path), in: directory)
        let error = await #expect(throws: ServerError.self) { try await server.run() }
        #expect(error?.detail.contains("is not a socket") == true)
        await #expect(throws: (any Error).self) { try await server.waitUntilListening() }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious")
    }

    @Test func aSecondServerOnTheSameSocketIsRefused() async throws {
        let first = try await TestServer()
        let server = try Self.makeServer(.path(first.socket), in: first.directory)
        let error = await #expect(throws: ServerError.self) { try await server.run() }
        #expect(error?.detail.contains("already listening") == true)
        // The first one is untouched.
        #expect(try await Self.getInfo(first.socket) != nil)
        try await first.stop()
    }

    @Test func anAdoptedListeningSocketIsServedAndItsPathKept() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/activated"
        // What systemd passes: a socket already bound and listening.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0 && listen(fd, 16) == 0)
        let server = try Self.makeServer(.adopted(fileDescriptor: fd), in: directory)
        let task = Task { try await server.run() }
        try await withDeadline(seconds: 10) { try await server.waitUntilListening() }
        #expect(try await Self.getInfo(path)?.contains("\"product\":\"strikecd\"") == true)
        server.stop()
        try await withDeadline(seconds: 10) { try await task.value }
        #expect(access(path, F_OK) == 0, "the socket unit owns the path")
    }

    @Test func cancellingRunStopsTheServer() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/socket"
        let server = try Self.makeServer(.path(path), in: directory)
        let task = Task { try await server.run() }
        try await withDeadline(seconds: 10) { try await server.waitUntilListening() }
        task.cancel()
        _ = try? await withDeadline(seconds: 10) { try await task.value }
        await #expect(throws: VarlinkClientError.self) {
            try await offPool { _ = try VarlinkClient(path: path, timeoutSeconds: 5) }
        }
    }
}
