import Foundation
import StrikeServer
import Testing
import VarlinkProtocol

/// Hostile clients are cut off, and the others keep being served.
@Suite struct AbuseTests {
    /// A second client's GetInfo still works.
    static func othersAreServed(_ socket: String) async throws {
        let reply = try await offPool {
            try VarlinkClient(path: socket, timeoutSeconds: 10).exchange(#"{"method":"org.varlink.service.GetInfo"}"#)
        }
        #expect(reply?.hasPrefix(#"{"parameters":{"vendor":"strikecd""#) == true)
    }

    @Test(arguments: [
        #"{"method":"#,
        #"{"method":"org.varlink.service.GetInfo","extra":1}"#,
        #"{"method":"org.varlink.service.GetInfo","upgrade":true}"#,
        #"{"method":"org.varlink.service.GetInfo","oneway":true,"more":true}"#,
        #"{"method":"org.varlink.service.GetInfo","more":"yes"}"#,
        #"{"method":"org.varlink.service.GetInfo","parameters":[]}"#,
        #"{"method":"org.varlink.service.GetInfo","method":"org.varlink.service.GetInfo"}"#,
        #"["org.varlink.service.GetInfo"]"#,
        #"null"#,
    ])
    func aProtocolViolationClosesTheConnectionWithoutReply(frame: String) async throws {
        let server = try await TestServer()
        let socket = server.socket
        // A connection that already works, to show it is unaffected.
        let closed = try await offPool {
            let bystander = try VarlinkClient(path: socket, timeoutSeconds: 10)
            _ = try bystander.exchange(#"{"method":"org.varlink.service.GetInfo"}"#)
            let client = try VarlinkClient(path: socket, timeoutSeconds: 10)
            try client.sendRaw(Array(frame.utf8) + [0])
            let closed = client.isClosedByServer()
            let stillServed = try bystander.exchange(#"{"method":"org.strikecd.Query.Summary"}"#)
            return closed && stillServed?.hasPrefix(#"{"parameters":{"workplaces""#) == true
        }
        #expect(closed)
        try await Self.othersAreServed(socket)
        try await server.stop()
    }

    @Test func invalidUTF8ClosesTheConnection() async throws {
        let server = try await TestServer()
        let socket = server.socket
        let closed = try await offPool {
            let client = try VarlinkClient(path: socket, timeoutSeconds: 10)
            try client.sendRaw(Array(#"{"method":"org.varlink.service.GetInfo","parameters":{"x":""#.utf8) + [0xC3, 0x28] + Array("\"}}".utf8) + [0])
            return client.isClosedByServer()
        }
        #expect(closed)
        try await server.stop()
    }

    @Test func twentyMegabytesWithoutANULAreCutOff() async throws {
        var limits = ServerConfiguration.Limits()
        limits.maximumMessageBytes = 1 << 20
        let server = try await TestServer(limits: limits)
        let socket = server.socket
        let (sent, closed) = try await offPool {
            let client = try VarlinkClient(path: socket, timeoutSeconds: 10)
            let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 64 << 10)
            var sent = 0
            do {
                try client.sendRaw(Array(#"{"method":"org.varlink.service.GetInfo","parameters":{"x":""#.utf8))
                while sent < 20 << 20 {
                    try client.sendRaw(chunk)
                    sent += chunk.count
                }
            } catch VarlinkClientError.closed {
                // The server hung up mid-send: what we want.
            }
            return (sent, client.isClosedByServer())
        }
        #expect(closed)
        #expect(sent < 20 << 20, "the server should hang up long before 20 MB")
        try await Self.othersAreServed(socket)
        try await server.stop()
    }

    @Test func aHalfSentCallIsCutOffAfterTheDeadline() async throws {
        var limits = ServerConfiguration.Limits()
        limits.partialMessageTimeout = .milliseconds(300)
        let server = try await TestServer(limits: limits)
        let socket = server.socket
        let staller = Task {
            try await offPool {
                let client = try VarlinkClient(path: socket, timeoutSeconds: 20)
                try client.sendRaw(Array(#"{"method":"org.varlink.serv"#.utf8))
                return client.isClosedByServer()
            }
        }
        // Served while the other stalls, and after.
        try await Self.othersAreServed(socket)
        #expect(try await withDeadline(seconds: 30) { try await staller.value })
        try await Self.othersAreServed(socket)
        try await server.stop()
    }

    @Test func aClientThatDoesNotReadItsRepliesIsCutOff() async throws {
        var limits = ServerConfiguration.Limits()
        limits.outputHighWater = 64 << 10
        limits.outputLowWater = 16 << 10
        limits.stalledOutputTimeout = .milliseconds(300)
        let server = try await TestServer(limits: limits)
        let socket = server.socket
        let closed = try await withDeadline(seconds: 60) {
            try await offPool {
                let client = try VarlinkClient(path: socket, timeoutSeconds: 20)
                // Each reply is the whole Query interface text (~15 KB); never read them.
                let call = Array(#"{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"org.strikecd.Query"}}"#.utf8) + [0]
                do {
                    for _ in 0..<20_000 { try client.sendRaw(call) }
                } catch VarlinkClientError.closed {}
                return client.isClosedByServer()
            }
        }
        #expect(closed)
        try await Self.othersAreServed(socket)
        try await server.stop()
    }

    /// One user's idle connections held its share of the limit for ever: with
    /// 32 of them open, its next `strikectl status` was refused. Now an idle
    /// connection is closed after `idleTimeout`, a used one later, and a Watch
    /// stream never.
    @Test func idleConnectionsAreClosedButWatchersAreNot() async throws {
        var limits = ServerConfiguration.Limits()
        limits.idleTimeout = .milliseconds(500)
        limits.maximumConnectionsPerUID = 2
        let server = try await TestServer(limits: limits)
        let socket = server.socket
        let outcome = try await offPool { () throws -> (idleClosed: Bool, change: String, thirdServed: String?) in
            let watcher = try VarlinkClient(path: socket, timeoutSeconds: 10)
            try watcher.sendRaw(Array(#"{"method":"org.strikecd.Query.Watch","more":true}"#.utf8) + [0])
            _ = try watcher.receiveFrame()
            let idle = try VarlinkClient(path: socket, timeoutSeconds: 10)
            _ = try idle.exchange(#"{"method":"org.varlink.service.GetInfo"}"#)
            // Closed by the server within the client's 10 s, not by the client.
            let idleClosed = idle.isClosedByServer()
            // The user's limit is 2: the watcher and one more. Served, now that the idle
            // one went (once the server has counted it gone: a condition, with a deadline).
            var submitted: String?
            let deadline = Date().addingTimeInterval(10)
            while submitted == nil, Date() < deadline {
                let admin = try VarlinkClient(path: socket, timeoutSeconds: 10)
                submitted = try? admin.exchange(#"{"method":"org.strikecd.Admin.Submit","parameters":{"messages":[{"v":1,"origin":"bmz","seq":1,"sent_at":"2020-08-24T10:00:00Z","type":"council.formed","data":{"council":"region","level":"regional"}}]}}"#)
            }
            // The watcher, silent longer than the idle timeout, still gets the change.
            let change = String(decoding: try watcher.receiveFrame() ?? [], as: UTF8.self)
            return (idleClosed, change, submitted)
        }
        #expect(outcome.idleClosed)
        #expect(outcome.thirdServed?.contains(#""outcome":"applied""#) == true, "\(outcome.thirdServed ?? "nil")")
        #expect(outcome.change.contains(#""change":{"origin":"bmz","seq":1"#), "\(outcome.change)")
        try await server.stop()
    }

    @Test func aThousandConnectionsFromOneUserHitThePerUserLimit() async throws {
        var limits = ServerConfiguration.Limits()
        limits.maximumConnectionsPerUID = 128
        limits.maximumConnections = 2048
        let server = try await TestServer(limits: limits, mode: 0o666)
        let socket = server.socket
        let served = try await offPool {
            var clients: [VarlinkClient] = []
            for _ in 0..<1000 { clients.append(try VarlinkClient(path: socket, timeoutSeconds: 10)) }
            var served = 0
            for client in clients {
                if (try? client.exchange(#"{"method":"org.varlink.service.GetInfo"}"#)) != nil { served += 1 }
            }
            // While root holds its 128, root gets no more, but another user does.
            let another = try? VarlinkClient(path: socket, timeoutSeconds: 10).exchange(#"{"method":"org.varlink.service.GetInfo"}"#)
            let nobody = try asNobody(socket, [#"{"method":"org.varlink.service.GetInfo"}"#])
            let nobodyServed = nobody.first?.hasPrefix(#"{"parameters":{"vendor""#) == true
            // `another` must have failed: nil, or no reply.
            return (served, another == nil, nobodyServed, clients.count)
        }
        #expect(served.0 == 128)
        #expect(served.1, "a 129th connection from root should be refused")
        #expect(served.2, "another user should still be served")
        // Once the thousand are gone, root is served again.
        try await waitUntil("the connections are released") { server.server.connectionCount == 0 }
        try await Self.othersAreServed(socket)
        try await server.stop()
    }
}
