import Foundation
import StrikeCore
import StrikeStore
import Testing
import VarlinkProtocol

@Suite struct CallParsingTests {
    @Test(arguments: [
        (#"{"method":"a.b.C"}"#, "a.b.C", false, false),
        (#"{"method":"a.b.C","parameters":null}"#, "a.b.C", false, false),
        (#"{"method":"a.b.C","parameters":{"x":1},"more":true}"#, "a.b.C", false, true),
        (#" { "oneway" : true , "method" : "a.b.C" } "#, "a.b.C", true, false),
        (#"{"method":"a.b.C","oneway":true,"more":false}"#, "a.b.C", true, false),
    ])
    func wellFormedCallsParse(text: String, method: String, oneway: Bool, more: Bool) throws {
        let call = try VarlinkCall.parse(Array(text.utf8))
        #expect(call.method == method && call.oneway == oneway && call.more == more)
        #expect(call.interface == "a.b" && call.name == "C")
    }

    @Test(arguments: [
        #"{"method":"a.b.C","upgrade":true}"#,
        #"{"method":"a.b.C","org.example.ext":{}}"#,
        #"{"method":"a.b.C","oneway":true,"more":true}"#,
        #"{"method":"a.b.C","more":"yes"}"#,
        #"{"method":"a.b.C","oneway":1}"#,
        #"{"method":"a.b.C","parameters":[]}"#,
        #"{"method":"a.b.C","parameters":"x"}"#,
        #"{"method":7}"#,
        #"{"parameters":{}}"#,
        #"{"method":"a.b.C","method":"a.b.D"}"#,
        #"{"method":"a.b.\ud800"}"#,
        #"["a.b.C"]"#,
        #"{"method":"a.b.C"} trailing"#,
        "{\"method\":\"a.b.C\"\u{FF}}",
        "",
    ])
    func violationsAreRefused(text: String) {
        #expect(throws: VarlinkViolation.self) { try VarlinkCall.parse(Array(text.utf8)) }
    }

    @Test func repliesAreEncodedWithObjectParameters() {
        #expect(String(decoding: VarlinkReply(.permissionDenied).bytes(), as: UTF8.self)
                == #"{"error":"org.varlink.service.PermissionDenied","parameters":{}}"#)
        #expect(String(decoding: VarlinkReply(parameters: JSONObject([("a", 1)]), continues: true).bytes(), as: UTF8.self)
                == #"{"parameters":{"a":1},"continues":true}"#)
        #expect(String(decoding: VarlinkCall(method: "a.b.C", more: true).bytes(), as: UTF8.self) == #"{"method":"a.b.C","more":true}"#)
    }

    @Test func repliesAreReadStrictly() throws {
        #expect(try VarlinkReply.parse(Array(#"{"parameters":{"a":1},"continues":true}"#.utf8)).continues)
        #expect(try VarlinkReply.parse(Array(#"{"error":"x.Y","parameters":null}"#.utf8)).error == "x.Y")
        #expect(throws: VarlinkViolation.self) { try VarlinkReply.parse(Array(#"{"error":"x.Y","continues":true}"#.utf8)) }
        #expect(throws: VarlinkViolation.self) { try VarlinkReply.parse(Array(#"{"parameters":{},"extra":1}"#.utf8)) }
    }

    @Test func framesSplitOnNULWithinTheLimit() throws {
        var framer = NULFramer(maximumFrameBytes: 8)
        framer.append(Array("ab\0cd".utf8))
        #expect(try framer.nextFrame() == Array("ab".utf8))
        #expect(try framer.nextFrame() == nil)
        framer.append(Array("e\0".utf8))
        #expect(try framer.nextFrame() == Array("cde".utf8))
        #expect(framer.isEmpty)
        framer.append(Array("123456789".utf8))
        #expect(throws: VarlinkViolation.self) { try framer.nextFrame() }
    }

    @Test func queryCallsRoundTrip() throws {
        let calls: [QueryCall] = [
            .summary, .watch, .getWorkplace(id: "mtz"),
            .listWorkplaces(region: "minsk", town: nil, strike: "go-slow", page: PageParameters(limit: 5, cursor: "abc")),
            .listDelegates(workplace: "mtz", council: "city", status: .detained, page: PageParameters()),
            .listDemands(category: .democratic, workplace: nil, page: PageParameters(limit: 1)),
            .unresolved(kind: .council, page: PageParameters(cursor: "council.x")),
            .gaps(origin: "mtz", page: PageParameters()),
        ]
        for call in calls {
            let wire = call.call
            let parsed = try VarlinkCall.parse(wire.bytes())
            #expect(parsed.interface == Interface.query)
            #expect(try QueryCall(name: parsed.name, parameters: parsed.parameters) == call)
        }
        #expect(QueryCall.watch.call.more)
    }
}

@Suite struct ConnectionBehaviourTests {
    @Test func pipelinedCallsAreAnsweredInOrderAndOnewayGetsNoReply() async throws {
        let server = try await TestServer()
        let socket = server.socket
        let requests = [
            #"{"method":"org.strikecd.Query.ListCouncils"}"#,
            #"{"method":"org.strikecd.Query.Summary","oneway":true}"#,
            #"{"method":"org.strikecd.Query.GetWorkplace","parameters":{"id":"nowhere"}}"#,
            #"{"method":"org.strikecd.Query.Watch","oneway":true}"#,
            #"{"method":"org.varlink.service.GetInfo","more":true}"#,
        ]
        let frames = try await offPool {
            let client = try VarlinkClient(path: socket, timeoutSeconds: 10)
            // All calls in one write, before reading anything.
            try client.sendRaw(requests.flatMap { Array($0.utf8) + [0] })
            return try (0..<3).map { _ in String(decoding: try client.receiveFrame() ?? [], as: UTF8.self) }
        }
        #expect(frames[0].hasPrefix(#"{"parameters":{"councils":[{"id":"city""#))
        #expect(frames[1] == #"{"error":"org.strikecd.Query.WorkplaceNotFound","parameters":{"id":"nowhere"}}"#)
        // A plain method called with more gets one reply without continues.
        #expect(frames[2].hasPrefix(#"{"parameters":{"vendor":"strikecd""#) && !frames[2].contains("continues"))
        try await server.stop()
    }

    /// An Admin call is answered by the connection's task, not on the event
    /// loop: the bounded calls pipelined after it must wait for its reply.
    @Test func callsPipelinedAfterAnAdminCallWaitForItsReply() async throws {
        let server = try await TestServer()
        let socket = server.socket
        let requests = [
            #"{"method":"org.strikecd.Query.Summary"}"#,
            #"{"method":"org.strikecd.Admin.Submit","parameters":{"messages":[{"v":1,"origin":"bmz","seq":1,"sent_at":"2020-08-24T10:00:00Z","type":"council.formed","data":{"council":"region","level":"regional"}}]}}"#,
            #"{"method":"org.strikecd.Query.Summary"}"#,
            #"{"method":"org.varlink.service.GetInfo"}"#,
        ]
        let frames = try await offPool {
            let client = try VarlinkClient(path: socket, timeoutSeconds: 10)
            try client.sendRaw(requests.flatMap { Array($0.utf8) + [0] })
            return try (0..<4).map { _ in String(decoding: try client.receiveFrame() ?? [], as: UTF8.self) }
        }
        #expect(frames[0].contains(#""messages":{"applied":10,"#), "\(frames[0])")
        #expect(frames[1] == #"{"parameters":{"results":[{"index":0,"origin":"bmz","seq":1,"outcome":"applied"}]}}"#)
        #expect(frames[2].contains(#""messages":{"applied":11,"#), "\(frames[2])")
        #expect(frames[3].hasPrefix(#"{"parameters":{"vendor":"strikecd""#))
        try await server.stop()
    }

    @Test func watchStreamsTheSummaryThenEachChange() async throws {
        let server = try await TestServer()
        let socket = server.socket
        let feed = server.feed
        let frames = try await offPool {
            let client = try VarlinkClient(path: socket, timeoutSeconds: 10)
            var frames: [String] = []
            try client.sendRaw(Array(#"{"method":"org.strikecd.Query.Watch","more":true}"#.utf8) + [0])
            frames.append(String(decoding: try client.receiveFrame() ?? [], as: UTF8.self))
            // The first reply comes after the subscription: nothing published now is missed.
            feed.publish([
                Change(origin: "mtz", seq: 9, type: "strike.reported", subject: "workplace/mtz", outcome: .applied, code: nil),
                Change(origin: nil, seq: nil, type: nil, subject: nil, outcome: .rejected, code: "json"),
            ])
            frames.append(String(decoding: try client.receiveFrame() ?? [], as: UTF8.self))
            frames.append(String(decoding: try client.receiveFrame() ?? [], as: UTF8.self))
            return frames
        }
        #expect(frames == [
            #"{"parameters":{"summary":{"workplaces":1,"striking":1,"participants":300,"delegates":{"active":1,"detained":0,"missing":0,"exiled":0,"recalled":0,"resigned":0},"mandates":{"active":1,"recalled":0,"resigned":0},"demands":{"economic":1,"democratic":0},"messages":{"applied":10,"duplicates":0,"rejected":1}}},"continues":true}"#,
            #"{"parameters":{"change":{"origin":"mtz","seq":9,"type":"strike.reported","subject":"workplace/mtz","outcome":"applied"}},"continues":true}"#,
            #"{"parameters":{"change":{"outcome":"rejected","code":"json"}},"continues":true}"#,
        ])
        // The client is gone: its subscription must go too.
        try await waitUntil("the watcher is unsubscribed") { feed.subscriberCount == 0 }
        try await server.stop()
    }

    @Test func submittedMessagesReachWatchers() async throws {
        let server = try await TestServer()
        let socket = server.socket
        let frames = try await offPool {
            let watcher = try VarlinkClient(path: socket, timeoutSeconds: 10)
            try watcher.sendRaw(Array(#"{"method":"org.strikecd.Query.Watch","more":true}"#.utf8) + [0])
            _ = try watcher.receiveFrame()
            let admin = try VarlinkClient(path: socket, timeoutSeconds: 10)
            let submitted = try admin.exchange(#"{"method":"org.strikecd.Admin.Submit","parameters":{"messages":[{"v":1,"origin":"bmz","seq":1,"sent_at":"2020-08-24T10:00:00Z","type":"council.formed","data":{"council":"region","level":"regional"}}]}}"#)
            return [submitted ?? "", String(decoding: try watcher.receiveFrame() ?? [], as: UTF8.self)]
        }
        #expect(frames[0] == #"{"parameters":{"results":[{"index":0,"origin":"bmz","seq":1,"outcome":"applied"}]}}"#)
        #expect(frames[1] == #"{"parameters":{"change":{"origin":"bmz","seq":1,"type":"council.formed","subject":"council/region","outcome":"applied"}},"continues":true}"#)
        try await server.stop()
    }

    @Test func aWatcherThatFallsBehindGetsWatchOverflowAndTheConnectionGoesOn() async throws {
        let server = try await TestServer(feedBuffer: 4)
        let socket = server.socket
        let feed = server.feed
        let (changes, last, after) = try await offPool {
            let client = try VarlinkClient(path: socket, timeoutSeconds: 10)
            try client.sendRaw(Array(#"{"method":"org.strikecd.Query.Watch","more":true}"#.utf8) + [0])
            _ = try client.receiveFrame()
            // Commits of 2,000 changes while the client reads nothing: a
            // commit reaches a watcher whole, but one that still has more
            // than the buffer's 4 changes unread when the next comes (its
            // socket full) has fallen behind.
            for commit in 0..<20 {
                feed.publish((1...2000).map {
                    Change(origin: "o", seq: Int64(commit * 2000) + $0, type: "council.formed", subject: "council/c", outcome: .applied, code: nil)
                })
            }
            var changes = 0
            while true {
                let frame = String(decoding: try client.receiveFrame() ?? [], as: UTF8.self)
                if frame.hasPrefix(#"{"error""#) {
                    return (changes, frame, try client.exchange(#"{"method":"org.varlink.service.GetInfo"}"#) ?? "")
                }
                changes += 1
            }
        }
        #expect(changes < 40_000)
        #expect(last == #"{"error":"org.strikecd.Query.WatchOverflow","parameters":{}}"#)
        #expect(after.hasPrefix(#"{"parameters":{"vendor""#))
        try await server.stop()
    }

    @Test func stoppingTheServerEndsWatchesAndRemovesTheSocket() async throws {
        let server = try await TestServer()
        let socket = server.socket
        let watching = Task {
            try await offPool {
                let client = try VarlinkClient(path: socket, timeoutSeconds: 20)
                try client.sendRaw(Array(#"{"method":"org.strikecd.Query.Watch","more":true}"#.utf8) + [0])
                _ = try client.receiveFrame()
                return client.isClosedByServer()
            }
        }
        let feed = server.feed
        try await waitUntil("the watch is subscribed") { feed.subscriberCount == 1 }
        try await server.stop()
        #expect(try await withDeadline(seconds: 20) { try await watching.value })
        #expect(access(socket, F_OK) != 0)
    }
}
