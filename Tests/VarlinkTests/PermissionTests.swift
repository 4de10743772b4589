import Foundation
import Testing
import VarlinkProtocol

/// Authorization from SO_PEERCRED, tested with a client that really runs as
/// another uid: the tests run as root and start the client through
/// `setpriv --reuid=65534 --regid=65534 --clear-groups` (nobody/nogroup).
@Suite struct PermissionTests {
    static let denied = #"{"error":"org.varlink.service.PermissionDenied","parameters":{}}"#
    static let summary = #"{"method":"org.strikecd.Query.Summary"}"#
    static let rescan = #"{"method":"org.strikecd.Admin.Rescan"}"#
    static let info = #"{"method":"org.varlink.service.GetInfo"}"#

    init() throws {
        try #require(getuid() == 0, "these tests start clients as uid 65534 and must run as root")
    }

    @Test func anUnprivilegedUserMayOnlyIntrospect() async throws {
        // The default groups (strikecd, strikecd-admin) do not include nobody.
        let server = try await TestServer(mode: 0o666)
        let socket = server.socket
        let replies = try await offPool {
            try asNobody(socket, [
                Self.info, Self.summary, Self.rescan,
                #"{"method":"org.strikecd.Query.Watch","more":true}"#,
                #"{"method":"org.strikecd.Query.NoSuchMethod"}"#,
                #"{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"org.strikecd.Admin"}}"#,
            ])
        }
        try #require(replies.count == 6, "replies: \(replies)")
        #expect(replies[0].hasPrefix(#"{"parameters":{"vendor":"strikecd""#))
        #expect(Array(replies[1...4]) == Array(repeating: Self.denied, count: 4))
        #expect(replies[5].hasPrefix(##"{"parameters":{"description":"# Operators"##))
        try await server.stop()
    }

    @Test func membersOfTheQueryGroupMayQueryButNotAdminister() async throws {
        let server = try await TestServer(mode: 0o666, queryGroup: "nogroup")
        let socket = server.socket
        let replies = try await offPool { try asNobody(socket, [Self.summary, Self.rescan]) }
        try #require(replies.count == 2, "replies: \(replies)")
        #expect(replies[0].hasPrefix(#"{"parameters":{"workplaces":1"#))
        #expect(replies[1] == Self.denied)
        try await server.stop()
    }

    /// A non-root peer's first Query waits for its group look-up on the
    /// connection's task; calls pipelined behind it are answered after it,
    /// in order, and then on the event loop with the access it found.
    @Test func pipelinedCallsKeepTheirOrderWhileAccessIsLookedUp() async throws {
        let server = try await TestServer(mode: 0o666, queryGroup: "nogroup")
        let socket = server.socket
        let replies = try await offPool {
            try asNobody(socket, pipelined: [
                Self.summary, Self.info,
                #"{"method":"org.strikecd.Query.GetWorkplace","parameters":{"id":"nowhere"}}"#,
                #"{"method":"org.strikecd.Query.Summary","oneway":true}"#,
                Self.rescan, Self.summary,
            ], replies: 5)
        }
        try #require(replies.count == 5, "replies: \(replies)")
        #expect(replies[0].hasPrefix(#"{"parameters":{"workplaces":1"#))
        #expect(replies[1].hasPrefix(#"{"parameters":{"vendor":"strikecd""#))
        #expect(replies[2] == #"{"error":"org.strikecd.Query.WorkplaceNotFound","parameters":{"id":"nowhere"}}"#)
        #expect(replies[3] == Self.denied)
        #expect(replies[4].hasPrefix(#"{"parameters":{"workplaces":1"#))
        try await server.stop()
    }

    @Test func membersOfTheAdminGroupMayDoBoth() async throws {
        let server = try await TestServer(mode: 0o666, adminGroup: "nogroup")
        let socket = server.socket
        let replies = try await offPool { try asNobody(socket, [Self.summary, Self.rescan]) }
        try #require(replies.count == 2, "replies: \(replies)")
        #expect(replies[0].hasPrefix(#"{"parameters":{"workplaces":1"#))
        // Past authorization: StoreAdmin does not rescan.
        #expect(replies[1] == #"{"error":"org.varlink.service.MethodNotImplemented","parameters":{"method":"org.strikecd.Admin.Rescan"}}"#)
        try await server.stop()
    }

    @Test func rootMayDoEverything() async throws {
        let server = try await TestServer(queryGroup: "no-such-group-q", adminGroup: "no-such-group-a")
        let socket = server.socket
        let replies = try await offPool {
            let client = try VarlinkClient(path: socket, timeoutSeconds: 10)
            return try [Self.summary, Self.rescan].map { try client.exchange($0) ?? "CLOSED" }
        }
        #expect(replies[0].hasPrefix(#"{"parameters":{"workplaces":1"#))
        #expect(replies[1].contains("MethodNotImplemented"))
        try await server.stop()
    }

    @Test func theSocketModeKeepsOthersOut() async throws {
        // Mode 0660 root:root: nobody cannot even connect.
        let server = try await TestServer()
        var info = stat()
        #expect(stat(server.socket, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o660)
        let socket = server.socket
        let replies = try await offPool { try asNobody(socket, [Self.info]) }
        #expect(replies == ["CONNECT-FAILED \(EACCES)"])
        try await server.stop()
    }
}
