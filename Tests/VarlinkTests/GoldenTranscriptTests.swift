import StrikeCore
import StrikeServer
import StrikeStore
import Testing
import VarlinkProtocol

/// Golden transcripts: exact request bytes in, exact reply bytes out, on one
/// connection to a server over the fixture state. Each reply is the frame
/// without its NUL terminator.
@Suite struct GoldenTranscriptTests {
    typealias Exchange = (request: String, reply: String)

    static func run(_ server: TestServer, _ transcript: [Exchange]) async throws {
        let socket = server.socket
        let replies = try await offPool {
            let client = try VarlinkClient(path: socket, timeoutSeconds: 10)
            return try transcript.map { try client.exchange($0.request) ?? "CLOSED" }
        }
        for (exchange, reply) in zip(transcript, replies) {
            #expect(reply == exchange.reply, "request: \(exchange.request)")
        }
    }

    @Test func service() async throws {
        let server = try await TestServer()
        try await Self.run(server, [
            (#"{"method":"org.varlink.service.GetInfo"}"#,
             #"{"parameters":{"vendor":"strikecd","product":"strikecd","version":"0.2.0","url":"man:strikecd(8)","interfaces":["org.strikecd.Admin","org.strikecd.Query","org.varlink.service"]}}"#),
            (#"{"method":"org.varlink.service.GetInfo","parameters":null}"#,
             #"{"parameters":{"vendor":"strikecd","product":"strikecd","version":"0.2.0","url":"man:strikecd(8)","interfaces":["org.strikecd.Admin","org.strikecd.Query","org.varlink.service"]}}"#),
            (#"{"method":"org.varlink.service.GetInfo","parameters":{"verbose":true}}"#,
             #"{"error":"org.varlink.service.InvalidParameter","parameters":{"parameter":"verbose"}}"#),
            (#"{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"org.example.Nope"}}"#,
             #"{"error":"org.varlink.service.InterfaceNotFound","parameters":{"interface":"org.example.Nope"}}"#),
            (#"{"method":"org.varlink.service.GetInterfaceDescription","parameters":{}}"#,
             #"{"error":"org.varlink.service.InvalidParameter","parameters":{"parameter":"interface"}}"#),
            (#"{"method":"org.varlink.service.Nope"}"#,
             #"{"error":"org.varlink.service.MethodNotFound","parameters":{"method":"org.varlink.service.Nope"}}"#),
            (#"{"method":"org.example.Thing.Do"}"#,
             #"{"error":"org.varlink.service.InterfaceNotFound","parameters":{"interface":"org.example.Thing"}}"#),
            (#"{"method":"Nope"}"#,
             #"{"error":"org.varlink.service.MethodNotFound","parameters":{"method":"Nope"}}"#),
        ])
        try await server.stop()
    }

    @Test(arguments: InterfaceTexts.all.map(\.name))
    func interfaceDescriptionsAreServedVerbatim(name: String) async throws {
        let server = try await TestServer()
        let text = try #require(InterfaceTexts.all.first { $0.name == name }?.text)
        let expected = String(decoding: VarlinkReply(parameters: .init([("description", .string(text))])).bytes(), as: UTF8.self)
        try await Self.run(server, [
            ("{\"method\":\"org.varlink.service.GetInterfaceDescription\",\"parameters\":{\"interface\":\"\(name)\"}}", expected),
        ])
        try await server.stop()
    }

    @Test func query() async throws {
        let server = try await TestServer()
        let mtz = #"{"id":"mtz","described":true,"name":"Minsk Tractor Works","kind":"factory","town":"minsk","region":"minsk","ownership":"state","headcount":17000,"status":"strike","participants":300,"striking":true,"reported_at":"2020-08-24T06:00:00Z"}"#
        try await Self.run(server, [
            (#"{"method":"org.strikecd.Query.Summary"}"#,
             #"{"parameters":{"workplaces":1,"striking":1,"participants":300,"delegates":{"active":1,"detained":0,"missing":0,"exiled":0,"recalled":0,"resigned":0},"mandates":{"active":1,"recalled":0,"resigned":0},"demands":{"economic":1,"democratic":0},"messages":{"applied":10,"duplicates":0,"rejected":1}}}"#),
            (#"{"method":"org.strikecd.Query.ListWorkplaces","parameters":{}}"#,
             #"{"parameters":{"workplaces":["# + mtz + "]}}"),
            (#"{"method":"org.strikecd.Query.ListWorkplaces","parameters":{"region":"minsk","strike":"striking","limit":5}}"#,
             #"{"parameters":{"workplaces":["# + mtz + "]}}"),
            (#"{"method":"org.strikecd.Query.ListWorkplaces","parameters":{"strike":"working"}}"#,
             #"{"parameters":{"workplaces":[]}}"#),
            (#"{"method":"org.strikecd.Query.GetWorkplace","parameters":{"id":"mtz"}}"#,
             #"{"parameters":{"workplace":"# + mtz + #","delegates":[{"id":"rook","workplace":"mtz","council":"city","status":"active","mandate":"active"}],"demands":[{"demand":"wages","text":"Restore the wage cuts","category":"economic","adopted":true,"votes":{"for":40,"against":3,"abstain":2},"outcome":"won"}],"actions":[{"action":"general-strike","kind":"general-strike","starts_at":"2020-10-26T00:00:00+03:00","participants":300}],"reports":[],"truncated":false}}"#),
            (#"{"method":"org.strikecd.Query.GetWorkplace","parameters":{"id":"azot"}}"#,
             #"{"parameters":{"workplace":{"id":"azot","described":false,"striking":false},"delegates":[],"demands":[],"actions":[{"action":"general-strike","kind":"general-strike","starts_at":"2020-10-26T00:00:00+03:00"}],"reports":[],"truncated":false}}"#),
            (#"{"method":"org.strikecd.Query.GetWorkplace","parameters":{"id":"nowhere"}}"#,
             #"{"error":"org.strikecd.Query.WorkplaceNotFound","parameters":{"id":"nowhere"}}"#),
            (#"{"method":"org.strikecd.Query.ListDelegates","parameters":{"council":"city","status":"active"}}"#,
             #"{"parameters":{"delegates":[{"id":"rook","workplace":"mtz","council":"city","status":"active","mandate":"active","reported_at":"2020-08-24T06:00:00Z"}]}}"#),
            (#"{"method":"org.strikecd.Query.GetDelegate","parameters":{"id":"rook"}}"#, #"{"parameters":{"id":"rook","status":"active","mandates":[{"delegate":"rook","council":"city","by":{"kind":"workplace","id":"mtz"},"status":"active","elected":{"at":"2020-08-24T06:00:00Z","origin":"mtz","seq":5},"since":{"at":"2020-08-24T06:00:00Z","origin":"mtz","seq":5},"other_bodies":[]}],"truncated":false,"reported_at":"2020-08-24T06:00:00Z"}}"#),
            (#"{"method":"org.strikecd.Query.GetDelegate","parameters":{"id":"nobody"}}"#,
             #"{"error":"org.strikecd.Query.DelegateNotFound","parameters":{"id":"nobody"}}"#),
            (#"{"method":"org.strikecd.Query.GetCouncil","parameters":{"id":"city"}}"#, #"{"parameters":{"id":"city","described":true,"name":"City strike council","level":"local","mandates":[{"delegate":"rook","council":"city","by":{"kind":"workplace","id":"mtz"},"status":"active","elected":{"at":"2020-08-24T06:00:00Z","origin":"mtz","seq":5},"since":{"at":"2020-08-24T06:00:00Z","origin":"mtz","seq":5},"other_bodies":[]}],"seats":[],"elected":[],"reports":[],"truncated":false}}"#),
            (#"{"method":"org.strikecd.Query.GetCouncil","parameters":{"id":"nowhere"}}"#,
             #"{"error":"org.strikecd.Query.CouncilNotFound","parameters":{"id":"nowhere"}}"#),
            (#"{"method":"org.strikecd.Query.Irregular"}"#, #"{"parameters":{"irregular":[],"truncated":false}}"#),
            (#"{"method":"org.strikecd.Query.Irregular","parameters":{"limit":0}}"#,
             #"{"error":"org.varlink.service.InvalidParameter","parameters":{"parameter":"limit"}}"#),
            (#"{"method":"org.strikecd.Query.ListCouncils"}"#,
             #"{"parameters":{"councils":[{"id":"city","name":"City strike council","level":"local","active_delegates":1}]}}"#),
            (#"{"method":"org.strikecd.Query.ListDemands","parameters":{"category":"economic"}}"#,
             #"{"parameters":{"demands":[{"id":"wages","text":"Restore the wage cuts","category":"economic","supporters":1,"outcomes":{"presented":0,"negotiating":0,"won":1,"rejected":0,"withdrawn":0},"workplaces":[{"workplace":"mtz","adopted":true,"votes":{"for":40,"against":3,"abstain":2},"outcome":"won"}],"more_workplaces":false}]}}"#),
            (#"{"method":"org.strikecd.Query.ListDemandWorkplaces","parameters":{"demand":"wages"}}"#,
             #"{"parameters":{"workplaces":[{"workplace":"mtz","adopted":true,"votes":{"for":40,"against":3,"abstain":2},"outcome":"won"}]}}"#),
            (#"{"method":"org.strikecd.Query.ListDemandWorkplaces","parameters":{"demand":"bread"}}"#,
             #"{"error":"org.strikecd.Query.DemandNotFound","parameters":{"id":"bread"}}"#),
            (#"{"method":"org.strikecd.Query.ListActions"}"#,
             #"{"parameters":{"actions":[{"id":"general-strike","kind":"general-strike","starts_at":"2020-10-26T00:00:00+03:00","hours":48,"demands":["wages"],"joined":2,"participants":300,"workplaces":[{"workplace":"azot"},{"workplace":"mtz","participants":300}],"more_workplaces":false}]}}"#),
            (#"{"method":"org.strikecd.Query.ListActionWorkplaces","parameters":{"action":"general-strike","limit":1}}"#,
             #"{"parameters":{"workplaces":[{"workplace":"azot"}],"next":"azot"}}"#),
            (#"{"method":"org.strikecd.Query.ListActionWorkplaces","parameters":{"action":"general-strike","limit":1,"cursor":"azot"}}"#,
             #"{"parameters":{"workplaces":[{"workplace":"mtz","participants":300}]}}"#),
            (#"{"method":"org.strikecd.Query.ListActionWorkplaces","parameters":{"action":"sit-in"}}"#,
             #"{"error":"org.strikecd.Query.ActionNotFound","parameters":{"id":"sit-in"}}"#),
            (#"{"method":"org.strikecd.Query.ListRejected"}"#,
             #"{"parameters":{"rejected":[{"hash":"7f2f5855bb7d81c01b2ed5fc92d9dc02421cf9c920f1e56b6a7a3c111ef31700","origin":"azot","seq":3,"code":"bad-value","detail":"\"data.status\" must be one of working, strike, partial, go-slow, work-to-rule, lockout (got \"on-holiday\")","source":"fixture-10.json","first_seen":"2023-11-14T22:13:20Z"}]}}"#),
            (#"{"method":"org.strikecd.Query.Gaps"}"#,
             #"{"parameters":{"gaps":[{"origin":"azot","first":2,"last":2,"missing":1},{"origin":"mtz","first":3,"last":4,"missing":2}]}}"#),
            (#"{"method":"org.strikecd.Query.Gaps","parameters":{"origin":"mtz"}}"#,
             #"{"parameters":{"gaps":[{"origin":"mtz","first":3,"last":4,"missing":2}]}}"#),
            (#"{"method":"org.strikecd.Query.Unresolved","parameters":{"kind":"workplace"}}"#,
             #"{"parameters":{"unresolved":[{"kind":"workplace","id":"azot","messages":1}]}}"#),
            (#"{"method":"org.strikecd.Query.History"}"#,
             #"{"parameters":{"step":"day","points":[{"start":"2020-08-24T00:00:00Z","striking":1,"participants":300,"detained":0,"taken":0,"released":0}],"newest":"2020-08-24T06:00:00Z"}}"#),
            (#"{"method":"org.strikecd.Query.History","parameters":{"subject":"region:minsk","from":"2020-08-23T22:30:00-02:00","step":"hour","limit":2}}"#,
             #"{"parameters":{"step":"hour","points":[{"start":"2020-08-24T00:00:00Z","striking":0,"participants":0},{"start":"2020-08-24T01:00:00Z","striking":0,"participants":0}],"newest":"2020-08-24T06:00:00Z","next":"1598230800"}}"#),
            (#"{"method":"org.strikecd.Query.HistoryByRegion","parameters":{"regions":["minsk","nowhere"]}}"#,
             #"{"parameters":{"step":"day","regions":[{"region":"minsk","points":[{"start":"2020-08-24T00:00:00Z","striking":1,"participants":300}]},{"region":"nowhere","points":[{"start":"2020-08-24T00:00:00Z","striking":0,"participants":0}]}],"newest":"2020-08-24T06:00:00Z"}}"#),
            (#"{"method":"org.strikecd.Query.History","parameters":{"subject":"workplace:nowhere"}}"#,
             #"{"error":"org.strikecd.Query.WorkplaceNotFound","parameters":{"id":"nowhere"}}"#),
            (#"{"method":"org.strikecd.Query.Watch"}"#,
             #"{"error":"org.varlink.service.ExpectedMore","parameters":{}}"#),
            (#"{"method":"org.strikecd.Query.Nope"}"#,
             #"{"error":"org.varlink.service.MethodNotFound","parameters":{"method":"org.strikecd.Query.Nope"}}"#),
        ])
        try await server.stop()
    }

    @Test func invalidParameters() async throws {
        let server = try await TestServer()
        func invalid(_ parameter: String) -> String {
            #"{"error":"org.varlink.service.InvalidParameter","parameters":{"parameter":""# + parameter + #""}}"#
        }
        try await Self.run(server, [
            (#"{"method":"org.strikecd.Query.Summary","parameters":{"extra":1}}"#, invalid("extra")),
            (#"{"method":"org.strikecd.Query.GetWorkplace","parameters":{}}"#, invalid("id")),
            (#"{"method":"org.strikecd.Query.GetWorkplace","parameters":{"id":null}}"#, invalid("id")),
            (#"{"method":"org.strikecd.Query.GetWorkplace","parameters":{"id":7}}"#, invalid("id")),
            (#"{"method":"org.strikecd.Query.GetWorkplace","parameters":{"id":"Not A Slug"}}"#, invalid("id")),
            (#"{"method":"org.strikecd.Query.ListWorkplaces","parameters":{"limit":"ten"}}"#, invalid("limit")),
            (#"{"method":"org.strikecd.Query.ListWorkplaces","parameters":{"limit":0}}"#, invalid("limit")),
            (#"{"method":"org.strikecd.Query.ListWorkplaces","parameters":{"limit":1.5}}"#, invalid("limit")),
            (#"{"method":"org.strikecd.Query.ListWorkplaces","parameters":{"strike":"on-holiday"}}"#, invalid("strike")),
            (#"{"method":"org.strikecd.Query.History","parameters":{"subject":"town:minsk"}}"#, invalid("subject")),
            (#"{"method":"org.strikecd.Query.History","parameters":{"subject":"workplace:Not A Slug"}}"#, invalid("subject")),
            (#"{"method":"org.strikecd.Query.History","parameters":{"from":"yesterday"}}"#, invalid("from")),
            (#"{"method":"org.strikecd.Query.History","parameters":{"to":"2020-08-24"}}"#, invalid("to")),
            (#"{"method":"org.strikecd.Query.History","parameters":{"step":"week"}}"#, invalid("step")),
            (#"{"method":"org.strikecd.Query.HistoryByRegion","parameters":{}}"#, invalid("regions")),
            (#"{"method":"org.strikecd.Query.HistoryByRegion","parameters":{"regions":[]}}"#, invalid("regions")),
            (#"{"method":"org.strikecd.Query.HistoryByRegion","parameters":{"regions":[""]}}"#, invalid("regions")),
            (#"{"method":"org.strikecd.Query.HistoryByRegion","parameters":{"regions":[1]}}"#, invalid("regions")),
            (#"{"method":"org.strikecd.Query.HistoryByRegion","parameters":{"regions":["a","b","c","d","e","f","g","h","i","j","k"]}}"#, invalid("regions")),
            (#"{"method":"org.strikecd.Query.HistoryByRegion","parameters":{"regions":["a"],"subject":"region:a"}}"#, invalid("subject")),
            (#"{"method":"org.strikecd.Query.History","parameters":{"cursor":"12"}}"#, invalid("cursor")),
            (#"{"method":"org.strikecd.Query.ListWorkplaces","parameters":{"cursor":"../../etc"}}"#, invalid("cursor")),
            (#"{"method":"org.strikecd.Query.ListRejected","parameters":{"cursor":"12.zz"}}"#, invalid("cursor")),
            (#"{"method":"org.strikecd.Query.ListDelegates","parameters":{"status":"asleep"}}"#, invalid("status")),
            (#"{"method":"org.strikecd.Query.ListDemands","parameters":{"category":"cultural"}}"#, invalid("category")),
            (#"{"method":"org.strikecd.Query.Unresolved","parameters":{"kind":"person"}}"#, invalid("kind")),
            (#"{"method":"org.strikecd.Admin.Submit","parameters":{}}"#, invalid("messages")),
            (#"{"method":"org.strikecd.Admin.Submit","parameters":{"messages":[1]}}"#, invalid("messages")),
            (#"{"method":"org.strikecd.Admin.Requeue","parameters":{"name":"../state.db"}}"#, invalid("name")),
            (#"{"method":"org.strikecd.Admin.Requeue","parameters":{"name":".."}}"#, invalid("name")),
            // A limit beyond the maximum is not an error: the server clamps it.
            (#"{"method":"org.strikecd.Query.ListCouncils","parameters":{"limit":1000000000000}}"#,
             #"{"parameters":{"councils":[{"id":"city","name":"City strike council","level":"local","active_delegates":1}]}}"#),
        ])
        try await server.stop()
    }

    @Test func submit() async throws {
        let server = try await TestServer()
        let message = #"{"v":1,"origin":"bmz","seq":1,"sent_at":"2020-08-24T10:00:00+03:00","type":"strike.reported","data":{"workplace":"bmz","status":"strike","participants":120}}"#
        let bad = #"{"v":1,"origin":"bmz","seq":2,"sent_at":"2020-08-24T10:00:00+03:00","type":"strike.reported","data":{"workplace":"bmz","status":"strike","participants":1.0}}"#
        let tooMany = "[" + Array(repeating: "{}", count: AdminCall.maximumMessages + 1).joined(separator: ",") + "]"
        try await Self.run(server, [
            (#"{"method":"org.strikecd.Admin.Submit","parameters":{"messages":["# + message + "," + message + "," + bad + "]}}",
             #"{"parameters":{"results":[{"index":0,"origin":"bmz","seq":1,"outcome":"applied"},{"index":1,"origin":"bmz","seq":1,"outcome":"duplicate"},{"index":2,"origin":"bmz","seq":2,"outcome":"rejected","code":"bad-value","detail":"\"data.participants\" must be an integer written without fraction or exponent (got 1.0)"}]}}"#),
            (#"{"method":"org.strikecd.Admin.Submit","parameters":{"messages":"# + tooMany + "}}",
             #"{"error":"org.strikecd.Admin.TooManyMessages","parameters":{"maximum":1000}}"#),
            (#"{"method":"org.strikecd.Query.ListRejected","parameters":{"limit":1,"cursor":"1700000000.7f2f5855bb7d81c01b2ed5fc92d9dc02421cf9c920f1e56b6a7a3c111ef31700"}}"#,
             #"{"parameters":{"rejected":[{"hash":"f7ea7c644f4c3cc6b3070df25c225e1e54d5424ae0d823952507d543e2f908a5","origin":"bmz","seq":2,"code":"bad-value","detail":"\"data.participants\" must be an integer written without fraction or exponent (got 1.0)","source":"Admin.Submit by uid 0, message 2","first_seen":"2023-11-14T22:13:20Z"}]}}"#),
            // StoreAdmin leaves the spool to the daemon.
            (#"{"method":"org.strikecd.Admin.Requeue","parameters":{"name":"x.json"}}"#,
             #"{"error":"org.varlink.service.MethodNotImplemented","parameters":{"method":"org.strikecd.Admin.Requeue"}}"#),
            (#"{"method":"org.strikecd.Admin.Rescan"}"#,
             #"{"error":"org.varlink.service.MethodNotImplemented","parameters":{"method":"org.strikecd.Admin.Rescan"}}"#),
            (#"{"method":"org.strikecd.Query.Summary"}"#,
             #"{"parameters":{"workplaces":1,"striking":2,"participants":420,"delegates":{"active":1,"detained":0,"missing":0,"exiled":0,"recalled":0,"resigned":0},"mandates":{"active":1,"recalled":0,"resigned":0},"demands":{"economic":1,"democratic":0},"messages":{"applied":11,"duplicates":1,"rejected":2}}}"#),
        ])
        try await server.stop()
    }

    /// A backend that answers Requeue by name, to pin the mapping of results and failures.
    struct FakeAdmin: AdminBackend {
        func submit(_ messages: [JSONValue], from peer: PeerCredentials) async throws(AdminFailure) -> [SubmitResult] {
            throw .failed("the disk holding the database is full")
        }

        func requeue(_ name: String) async throws(AdminFailure) -> String {
            if name == "gone.json" { throw .quarantinedFileNotFound(name) }
            return name + ".1"
        }

        func rescan() async throws(AdminFailure) {}

        func show(hash: [UInt8]) async throws(AdminFailure) -> RejectedText {
            switch hash.first {
            case 0x01: return .message(#"{"v":1}"#)
            case 0x02: return .notKept
            default: throw .rejectedVersionNotFound(AdminCall.hashText(hash))
            }
        }

        func forget(hash: [UInt8]) async throws(AdminFailure) -> ForgetResult {
            switch hash.first {
            case 0x01: return ForgetResult(restored: Envelope(origin: Slug("mtz")!, seq: 7))
            case 0x02: return ForgetResult(restored: nil)
            default: throw .rejectedVersionNotFound(AdminCall.hashText(hash))
            }
        }
    }

    @Test func adminBackendResultsAndFailures() async throws {
        let server = try await TestServer(admin: .custom(FakeAdmin()))
        try await Self.run(server, [
            (#"{"method":"org.strikecd.Admin.Requeue","parameters":{"name":"x.json"}}"#,
             #"{"parameters":{"name":"x.json.1"}}"#),
            (#"{"method":"org.strikecd.Admin.Requeue","parameters":{"name":"gone.json"}}"#,
             #"{"error":"org.strikecd.Admin.QuarantinedFileNotFound","parameters":{"name":"gone.json"}}"#),
            (#"{"method":"org.strikecd.Admin.Rescan","parameters":{}}"#,
             #"{"parameters":{}}"#),
            (#"{"method":"org.strikecd.Admin.Submit","parameters":{"messages":[]}}"#,
             #"{"error":"org.strikecd.Admin.Failed","parameters":{"detail":"the disk holding the database is full"}}"#),
            (#"{"method":"org.strikecd.Admin.Forget","parameters":{"hash":"01\#(String(repeating: "ab", count: 31))"}}"#,
             #"{"parameters":{"restored_origin":"mtz","restored_seq":7}}"#),
            (#"{"method":"org.strikecd.Admin.Forget","parameters":{"hash":"02\#(String(repeating: "AB", count: 31))"}}"#,
             #"{"parameters":{}}"#),
            (#"{"method":"org.strikecd.Admin.Forget","parameters":{"hash":"03\#(String(repeating: "ab", count: 31))"}}"#,
             #"{"error":"org.strikecd.Admin.RejectedVersionNotFound","parameters":{"hash":"03\#(String(repeating: "ab", count: 31))"}}"#),
            (#"{"method":"org.strikecd.Admin.ShowRejected","parameters":{"hash":"01\#(String(repeating: "ab", count: 31))"}}"#,
             #"{"parameters":{"message":"{\"v\":1}"}}"#),
            (#"{"method":"org.strikecd.Admin.ShowRejected","parameters":{"hash":"02\#(String(repeating: "ab", count: 31))"}}"#,
             #"{"parameters":{}}"#),
            (#"{"method":"org.strikecd.Admin.ShowRejected","parameters":{"hash":"03\#(String(repeating: "ab", count: 31))"}}"#,
             #"{"error":"org.strikecd.Admin.RejectedVersionNotFound","parameters":{"hash":"03\#(String(repeating: "ab", count: 31))"}}"#),
            (#"{"method":"org.strikecd.Admin.Forget","parameters":{"hash":"03ab"}}"#,
             #"{"error":"org.varlink.service.InvalidParameter","parameters":{"parameter":"hash"}}"#),
            (#"{"method":"org.strikecd.Admin.Forget","parameters":{"hash":"zz\#(String(repeating: "ab", count: 31))"}}"#,
             #"{"error":"org.varlink.service.InvalidParameter","parameters":{"parameter":"hash"}}"#),
            (#"{"method":"org.strikecd.Admin.Nope"}"#,
             #"{"error":"org.varlink.service.MethodNotFound","parameters":{"method":"org.strikecd.Admin.Nope"}}"#),
        ])
        try await server.stop()

        let without = try await TestServer(admin: .none)
        try await Self.run(without, [
            (#"{"method":"org.strikecd.Admin.Rescan"}"#,
             #"{"error":"org.varlink.service.MethodNotImplemented","parameters":{"method":"org.strikecd.Admin.Rescan"}}"#),
        ])
        try await without.stop()
    }
}
