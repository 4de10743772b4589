import StrikeCore
import Testing

@Suite struct ScopeTests {
    @Test(arguments: [
        ("workplace:mtz", "workplace:mtz"), ("council:minsk-city", "council:minsk-city"),
        ("workplace:*", "workplace:*"), ("council:*", "council:*"), ("*", "*"),
    ])
    func parses(text: String, shown: String) {
        #expect(Scope(text)?.description == shown)
    }

    @Test(arguments: ["", "workplace", "workplace:", "council:", "workplace:MTZ", "factory:mtz", "**", "*:*",
                      "workplace:mtz:x", "council:-x", " workplace:mtz", "workplace:\(String(repeating: "a", count: 64))"])
    func refuses(text: String) {
        #expect(Scope(text) == nil)
    }

    @Test(arguments: [
        ("workplace:mtz", "workplace:mtz", true), ("workplace:mtz", "workplace:mtz-2", false),
        ("workplace:mtz", "council:mtz", false), ("council:city", "council:city", true),
        ("workplace:*", "workplace:any", true), ("workplace:*", "council:any", false),
        ("council:*", "council:any", true), ("council:*", "workplace:any", false),
        ("*", "workplace:any", true), ("*", "council:any", true),
    ])
    func admits(scope: String, body: String, admitted: Bool) throws {
        let scope = try #require(Scope(scope))
        let body = try #require(BodyRef(body))
        #expect(scope.admits(body) == admitted)
        #expect(Scopes([scope])!.admits(body) == admitted)
    }

    @Test func scopesAreSetsAndEverythingCoversAll() throws {
        let mtz = Slug("mtz")!
        #expect(Scopes([]) == nil)
        #expect(Scopes([.council(mtz), .workplace(mtz), .council(mtz)]) == Scopes.own(mtz))
        #expect(Scopes([.workplace(mtz), .everything]) == Scopes.everything)
        #expect(Scopes.own(mtz).description == "council:mtz workplace:mtz")
        #expect(Scopes.own(mtz).admits(.workplace(mtz)) && Scopes.own(mtz).admits(.council(mtz)))
        #expect(!Scopes.own(mtz).admits(.workplace(Slug("granit")!)))
    }
}

/// The body each message is about (docs/messages.md, "Scopes").
@Suite struct MessageBodyTests {
    static let cases: [(type: String, data: String, origin: String, body: String?)] = [
        ("workplace.reported", #"{"workplace":"mtz","name":"MTZ"}"#, "city", "workplace:mtz"),
        ("strike.reported", #"{"workplace":"mtz","status":"strike"}"#, "city", "workplace:mtz"),
        ("demand.adopted", #"{"demand":"d","workplace":"mtz"}"#, "city", "workplace:mtz"),
        ("demand.outcome", #"{"demand":"d","workplace":"mtz","outcome":"won"}"#, "city", "workplace:mtz"),
        ("action.joined", #"{"action":"a","workplace":"mtz"}"#, "city", "workplace:mtz"),
        ("delegate.elected", #"{"delegate":"rook","workplace":"mtz","council":"city","votes":{"for":2,"against":1}}"#, "x", "workplace:mtz"),
        ("delegate.elected", #"{"delegate":"rook","from_council":"city","council":"region","votes":{"for":2,"against":1}}"#, "x", "council:city"),
        ("delegate.recalled", #"{"delegate":"rook","workplace":"mtz","votes":{"for":2,"against":1}}"#, "x", "workplace:mtz"),
        ("delegate.recalled", #"{"delegate":"rook","from_council":"city","votes":{"for":2,"against":1}}"#, "x", "council:city"),
        ("council.formed", #"{"council":"region","level":"regional"}"#, "city", "council:region"),
        ("demand.proposed", #"{"demand":"d","text":"t","category":"economic"}"#, "city", "council:city"),
        ("demand.proposed", #"{"demand":"d","text":"t","category":"economic","by":"national"}"#, "city", "council:national"),
        ("action.called", #"{"action":"a","kind":"rally","starts_at":"2020-08-30T14:00:00+03:00"}"#, "city", "council:city"),
        ("action.called", #"{"action":"a","kind":"rally","starts_at":"2020-08-30T14:00:00+03:00","by":"national"}"#, "city", "council:national"),
        ("delegate.safety", #"{"delegate":"rook","status":"arrested"}"#, "anyone", nil),
        ("delegate.status", #"{"delegate":"rook","status":"detained"}"#, "anyone", nil),
        ("delegate.status", #"{"delegate":"rook","status":"resigned"}"#, "anyone", nil),
    ]

    @Test(arguments: cases.indices)
    func body(index: Int) throws {
        let item = Self.cases[index]
        let text = #"{"v":1,"origin":"\#(item.origin)","seq":1,"sent_at":"2020-08-24T09:30:00+03:00","type":"\#(item.type)","data":\#(item.data)}"#
        let message = try #require(MessageReader.read(Array(text.utf8), policy: ValidationPolicy(now: nil)).message, "\(item.type)")
        #expect(message.aboutBody?.description == item.body)
        #expect(BodyRef.about(message.body, origin: message.origin)?.description == item.body)
    }

    @Test func byMustBeASlug() {
        let text = #"{"v":1,"origin":"city","seq":1,"sent_at":"2020-08-24T09:30:00+03:00","type":"action.called","data":{"action":"a","kind":"rally","starts_at":"2020-08-30T14:00:00+03:00","by":"National"}}"#
        let rejection = MessageReader.read(Array(text.utf8), policy: ValidationPolicy(now: nil)).rejection
        #expect(rejection?.code == .badValue)
        #expect(rejection?.detail.contains("data.by") == true, "\(rejection?.detail ?? "")")
    }
}

/// What every origin speaks for, under each signature policy.
@Suite struct SpeakersTests {
    let mtz = Slug("mtz")!, city = Slug("city")!, other = Slug("granit")!

    @Test func unlistedOriginsByPolicy() {
        let table: [Slug: Scopes] = [city: Scopes([.council(city), .everyWorkplace])!]
        let required = Speakers(table: table, unlisted: .own)
        #expect(required.scopes(for: city).description == "council:city workplace:*")
        #expect(required.scopes(for: other) == .own(other))
        #expect(required.admits(.workplace(mtz), from: city) && !required.admits(.council(mtz), from: city))
        #expect(!required.admits(.workplace(mtz), from: other) && required.admits(.workplace(other), from: other))
        let optional = Speakers(table: table, unlisted: .everything)
        #expect(optional.admits(.council(mtz), from: other) && !optional.admits(.council(mtz), from: city))
        #expect(Speakers.everyone.admits(.council(mtz), from: other) && Speakers.everyone.speaksForAll)
        #expect(!required.speaksForAll && !optional.speaksForAll)
    }

    /// The fingerprint depends on the scopes alone, not on how the table was built.
    @Test func fingerprints() {
        let a = Speakers(table: [city: Scopes([.council(city), .workplace(mtz)])!, mtz: .own(mtz)], unlisted: .own)
        let b = Speakers(table: [mtz: .own(mtz), city: Scopes([.workplace(mtz), .council(city), .workplace(mtz)])!], unlisted: .own)
        #expect(a == b && a.fingerprint == b.fingerprint)
        #expect(a.fingerprint != Speakers(table: a.table, unlisted: .everything).fingerprint)
        #expect(a.fingerprint != Speakers(table: [city: .own(city), mtz: .own(mtz)], unlisted: .own).fingerprint)
        #expect(Speakers.everyone.fingerprint == Speakers(table: [:], unlisted: .everything).fingerprint)
    }

    /// Safety reports are about no body: any origin's is admitted.
    @Test func safetyFromAnyone() throws {
        let text = #"{"v":1,"origin":"granit","seq":1,"sent_at":"2020-08-24T09:30:00+03:00","type":"delegate.safety","data":{"delegate":"rook","status":"arrested"}}"#
        let message = try #require(MessageReader.read(Array(text.utf8), policy: ValidationPolicy(now: nil)).message)
        #expect(Speakers(table: [other: Scopes([.workplace(mtz)])!], unlisted: .own).admits(message))
    }

    @Test(arguments: [SignaturePolicy.off, .optional, .required])
    func rulesGiveSpeakers(policy: SignaturePolicy) {
        let speakers = SignatureRules(policy: policy, verifier: nil).speakers
        switch policy {
        case .off: #expect(speakers == .everyone)
        case .optional: #expect(speakers.unlisted == .everything && speakers.table.isEmpty)
        case .required: #expect(speakers.unlisted == .own)
        }
    }
}
