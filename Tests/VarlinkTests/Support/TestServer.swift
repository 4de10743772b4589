import Foundation
import Logging
import StrikeCore
import StrikeServer
import StrikeStore
import Testing
import VarlinkProtocol

/// A temporary directory removed when the value is released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() {
        // Short, so that socket paths stay within sockaddr_un's 108 bytes.
        let base = "/tmp/sctest-" + UUID().uuidString.prefix(13).lowercased()
        try! FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        chmod(base, 0o755)
        path = base
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

let fixtureNow: Int64 = 1_700_000_000

func message(_ origin: String, _ seq: Int64, _ type: String, _ data: KeyValuePairs<String, JSONValue>,
             sentAt: String = "2020-08-24T09:00:00+03:00") -> [UInt8] {
    JSONWriter.bytes(.record([
        "v": 1, "origin": .string(origin), "seq": .number(JSONNumber(seq)), "sent_at": .string(sentAt),
        "type": .string(type), "data": .record(data),
    ]))
}

/// A small state with one of everything, for golden transcripts.
func fixtureCopies() -> [[UInt8]] {
    let votes: JSONValue = .record(["for": 40, "against": 3, "abstain": 2])
    return [
        message("mtz", 1, "workplace.reported", ["workplace": "mtz", "name": "Minsk Tractor Works", "kind": "factory",
                                                 "town": "minsk", "region": "minsk", "ownership": "state", "headcount": 17000]),
        message("mtz", 2, "strike.reported", ["workplace": "mtz", "status": "strike", "participants": 300]),
        message("mtz", 5, "delegate.elected", ["delegate": "rook", "workplace": "mtz", "council": "city", "votes": votes]),
        message("city", 1, "council.formed", ["council": "city", "name": "City strike council", "level": "local"]),
        message("city", 2, "demand.proposed", ["demand": "wages", "text": "Restore the wage cuts", "category": "economic"]),
        message("mtz", 6, "demand.adopted", ["demand": "wages", "workplace": "mtz", "votes": votes]),
        message("mtz", 7, "demand.outcome", ["demand": "wages", "workplace": "mtz", "outcome": "won"]),
        message("city", 3, "action.called", ["action": "general-strike", "kind": "general-strike",
                                            "starts_at": "2020-10-26T00:00:00+03:00", "hours": 48, "demands": ["wages"]]),
        message("mtz", 8, "action.joined", ["action": "general-strike", "workplace": "mtz", "participants": 300]),
        message("azot", 1, "action.joined", ["action": "general-strike", "workplace": "azot"]),
        message("azot", 3, "strike.reported", ["workplace": "azot", "status": "on-holiday"]),
    ]
}

enum AdminMode {
    /// StoreAdmin over the test store, publishing into the test feed.
    case store
    /// No backend: Admin calls are MethodNotImplemented.
    case none
    case custom(any AdminBackend)
}

/// A Varlink server on a temporary socket and database, run in a task.
final class TestServer: Sendable {
    let directory: TemporaryDirectory
    let socket: String
    let store: Store
    let feed: ChangeFeed
    let server: VarlinkServer
    private let task: Task<Void, any Error>

    init(
        copies: [[UInt8]] = fixtureCopies(), limits: ServerConfiguration.Limits = ServerConfiguration.Limits(),
        mode: UInt32 = 0o660, queryGroup: String = "strikecd", adminGroup: String = "strikecd-admin",
        admin: AdminMode = .store, feedBuffer: Int = ChangeFeed.defaultBufferSize
    ) async throws {
        directory = TemporaryDirectory()
        socket = directory.path + "/socket"
        store = try Store(path: directory.path + "/state.db")
        let inputs = copies.enumerated().map { index, bytes in
            CopyInput(reading: MessageReader.read(bytes, policy: ValidationPolicy(now: fixtureNow)), source: "fixture-\(index).json")
        }
        _ = try store.ingest(inputs, now: fixtureNow)
        feed = ChangeFeed(bufferSize: feedBuffer)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let configuration = ServerConfiguration(
            listen: .path(socket, mode: mode), info: ServiceInfo(version: "0.2.0"), queryGroup: queryGroup,
            adminGroup: adminGroup, limits: limits)
        let backend: (any AdminBackend)? = switch admin {
        case .store: StoreAdmin(store: store, feed: feed, clock: { fixtureNow })
        case .none: nil
        case .custom(let backend): backend
        }
        server = VarlinkServer(configuration: configuration, store: store, feed: feed, admin: backend, logger: logger)
        let server = self.server
        task = Task { try await server.run() }
        try await withDeadline(seconds: 10) { try await server.waitUntilListening() }
    }

    /// Stops the server and waits for `run()` to return.
    func stop() async throws {
        server.stop()
        try await withDeadline(seconds: 10) { try await self.task.value }
    }

    deinit { task.cancel() }
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    let seconds: Double
    var description: String { "no result within \(seconds) s" }
}

/// Runs `body`, failing with DeadlineExceeded if it takes longer than `seconds`.
func withDeadline<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw DeadlineExceeded(seconds: seconds)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Waits until `condition` holds, checking every few milliseconds, for at most `seconds`.
func waitUntil(seconds: Double = 10, _ what: String, _ condition: @escaping @Sendable () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while !condition() {
        if ContinuousClock.now > deadline {
            Issue.record("timed out waiting until \(what)")
            throw DeadlineExceeded(seconds: seconds)
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// Runs blocking work (socket clients, processes) on its own thread, never on
/// Swift's cooperative pool, which the server under test needs.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
}

extension VarlinkClient {
    /// Sends text (a NUL is appended) and returns the next frame as text; nil when the server closed.
    func exchange(_ request: String) throws -> String? {
        try sendRaw(Array(request.utf8) + [0])
        return try receiveFrame().map { String(decoding: $0, as: UTF8.self) }
    }

    /// True once the server has closed the connection (reads end), within the client's timeout.
    func isClosedByServer() -> Bool {
        do {
            while try receiveFrame() != nil {}
            return true
        } catch VarlinkClientError.closed {
            return true
        } catch {
            return false
        }
    }
}
