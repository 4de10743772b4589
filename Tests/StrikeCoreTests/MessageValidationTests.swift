import StrikeCore
import Testing

// Message format v1 (docs/messages.md), rule by rule: every type valid in its
// minimal and full form, and every rule broken once, with the reason code it
// must give and a check that the detail names the field.

// MARK: - The schema, as docs/messages.md states it

/// What kind of value a field holds; drives the wrong values tried on it.
enum FieldKind: Sendable {
    case slug
    case text
    case choice([String])
    case count
    case votes
    case time
    case slugs
}

struct FieldSpec: Sendable {
    let name: String
    let kind: FieldKind
    let required: Bool
    /// A valid value, used in the full message (and the minimal one if required).
    let example: JSONValue
}

struct TypeSpec: Sendable, CustomTestStringConvertible {
    let type: String
    let fields: [FieldSpec]

    var testDescription: String { type }

    /// `data` with the required fields only.
    var minimal: JSONValue { .object(JSONObject(fields.filter(\.required).map { (key: $0.name, value: $0.example) })) }
    /// `data` with every field.
    var full: JSONValue { .object(JSONObject(fields.map { (key: $0.name, value: $0.example) })) }

    func message(data: JSONValue) -> JSONValue { envelope(type: type, data: data) }
}

private func r(_ name: String, _ kind: FieldKind, _ example: JSONValue) -> FieldSpec {
    FieldSpec(name: name, kind: kind, required: true, example: example)
}

private func o(_ name: String, _ kind: FieldKind, _ example: JSONValue) -> FieldSpec {
    FieldSpec(name: name, kind: kind, required: false, example: example)
}

// The allowed values, copied from docs/messages.md rather than from the code, so
// that a renamed case fails here.
let workplaceKinds = ["factory", "plant", "mine", "office", "it", "transport", "hospital", "school", "university", "shop", "other"]
let ownerships = ["state", "private", "mixed"]
let strikeStatuses = ["working", "strike", "partial", "go-slow", "work-to-rule", "lockout"]
let councilLevels = ["local", "regional", "national", "neighbourhood"]
let delegateEvents = ["active", "detained", "missing", "released", "resigned"]
let safetyStatuses = ["free", "detained", "arrested", "charged", "sentenced", "missing", "exiled"]
let demandCategories = ["economic", "democratic"]
let demandOutcomes = ["presented", "negotiating", "won", "rejected", "withdrawn"]
let actionKinds = ["general-strike", "strike", "march", "rally", "go-slow"]

let sampleVotes: JSONValue = .record(["for": 412, "against": 23, "abstain": 15])

let typeSpecs: [TypeSpec] = [
    TypeSpec(type: "workplace.reported", fields: [
        r("workplace", .slug, "tractor-works"),
        o("name", .text, "Tractor Works"),
        o("kind", .choice(workplaceKinds), "factory"),
        o("sector", .text, "machine building"),
        o("town", .text, "Minsk"),
        o("region", .text, "Minsk"),
        o("ownership", .choice(ownerships), "state"),
        o("headcount", .count, 17000),
    ]),
    TypeSpec(type: "strike.reported", fields: [
        r("workplace", .slug, "tractor-works"),
        r("status", .choice(strikeStatuses), "strike"),
        o("participants", .count, 3000),
    ]),
    TypeSpec(type: "council.formed", fields: [
        r("council", .slug, "city-strike-council"),
        o("name", .text, "City Strike Council"),
        r("level", .choice(councilLevels), "local"),
        o("area", .text, "Minsk"),
    ]),
    TypeSpec(type: "delegate.elected", fields: [
        r("delegate", .slug, "rook"),
        r("workplace", .slug, "tractor-works"),
        r("council", .slug, "city-strike-council"),
        r("votes", .votes, sampleVotes),
        o("quorum", .count, 300),
    ]),
    TypeSpec(type: "delegate.recalled", fields: [
        r("delegate", .slug, "rook"),
        r("workplace", .slug, "tractor-works"),
        r("votes", .votes, sampleVotes),
    ]),
    TypeSpec(type: "delegate.status", fields: [
        r("delegate", .slug, "rook"),
        r("status", .choice(delegateEvents), "detained"),
        o("note", .text, "Taken at the gate after the morning shift."),
    ]),
    // `until` (a date) has tests of its own: ElectingBodyAndSafety.
    TypeSpec(type: "delegate.safety", fields: [
        r("delegate", .slug, "rook"),
        r("status", .choice(safetyStatuses), "arrested"),
        o("note", .text, "Fifteen days, Okrestina."),
    ]),
    TypeSpec(type: "demand.proposed", fields: [
        r("demand", .slug, "abolish-contract-system"),
        r("text", .text, "Abolish the contract system."),
        r("category", .choice(demandCategories), "economic"),
        o("by", .slug, "minsk-city"),
    ]),
    TypeSpec(type: "demand.adopted", fields: [
        r("demand", .slug, "new-elections"),
        r("workplace", .slug, "tractor-works"),
        o("votes", .votes, sampleVotes),
    ]),
    TypeSpec(type: "demand.outcome", fields: [
        r("demand", .slug, "new-elections"),
        r("workplace", .slug, "tractor-works"),
        r("outcome", .choice(demandOutcomes), "presented"),
    ]),
    TypeSpec(type: "action.called", fields: [
        r("action", .slug, "general-strike-48h"),
        r("kind", .choice(actionKinds), "general-strike"),
        r("starts_at", .time, "2020-08-28T08:00:00+03:00"),
        o("hours", .count, 48),
        o("demands", .slugs, ["new-elections", "free-political-prisoners"]),
        o("text", .text, "A general strike of at least 48 hours."),
        o("by", .slug, "national-council"),
    ]),
    TypeSpec(type: "action.joined", fields: [
        r("action", .slug, "general-strike-48h"),
        r("workplace", .slug, "tractor-works"),
        o("participants", .count, 2500),
    ]),
]

/// Each (type, field) pair.
struct FieldCase: Sendable, CustomTestStringConvertible {
    let spec: TypeSpec
    let field: FieldSpec
    var testDescription: String { "\(spec.type) \(field.name)" }
}

let allFields: [FieldCase] = typeSpecs.flatMap { spec in spec.fields.map { FieldCase(spec: spec, field: $0) } }

/// A message that must be rejected with `code`, its detail naming `field`.
struct Rejected: Sendable, CustomTestStringConvertible {
    let label: String
    let text: String
    let code: ReasonCode
    /// Text the detail must contain (the field's path), or nil.
    let field: String?

    init(_ label: String, _ value: JSONValue, _ code: ReasonCode, field: String?) {
        self.label = label
        self.text = JSONWriter.string(value, style: .compact)
        self.code = code
        self.field = field
    }

    init(_ label: String, text: String, _ code: ReasonCode, field: String?) {
        self.label = label
        self.text = text
        self.code = code
        self.field = field
    }

    var testDescription: String { label }
}

func expectRejected(_ testCase: Rejected, policy: ValidationPolicy = testPolicy, sourceLocation: SourceLocation = #_sourceLocation) {
    let reading = read(testCase.text, policy: policy)
    guard let rejection = reading.rejection else {
        Issue.record("\(testCase.label): accepted, expected \(testCase.code.rawValue)", sourceLocation: sourceLocation)
        return
    }
    #expect(rejection.code == testCase.code, "\(testCase.label): \(rejection.detail)", sourceLocation: sourceLocation)
    if let field = testCase.field {
        #expect(rejection.detail.contains(field), "detail \"\(rejection.detail)\" does not name \(field)", sourceLocation: sourceLocation)
    }
}

/// A Body rendered as field name → text, so a message can be compared with its JSON.
func renderedFields(_ body: Body) -> [String: String] {
    var out: [String: String] = [:]
    func put(_ key: String, _ value: String?) { if let value { out[key] = value } }
    func votes(_ votes: Votes?) -> String? { votes.map { "\($0.yes)/\($0.no)/\($0.abstain)" } }
    func count(_ value: Int64?) -> String? { value.map(String.init) }
    switch body {
    case .workplaceReported(let report):
        put("workplace", report.workplace.rawValue); put("name", report.name); put("kind", report.kind?.rawValue)
        put("sector", report.sector); put("town", report.town); put("region", report.region)
        put("ownership", report.ownership?.rawValue); put("headcount", count(report.headcount))
    case .strikeReported(let workplace, let status, let participants):
        put("workplace", workplace.rawValue); put("status", status.rawValue); put("participants", count(participants))
    case .councilFormed(let council, let name, let level, let area):
        put("council", council.rawValue); put("name", name); put("level", level.rawValue); put("area", area)
    case .delegateElected(let delegate, let body, let council, let elected, let quorum):
        put("delegate", delegate.rawValue); put(body.kind == "workplace" ? "workplace" : "from_council", body.id.rawValue)
        put("council", council.rawValue); put("votes", votes(elected)); put("quorum", count(quorum))
    case .delegateRecalled(let delegate, let body, let recalled):
        put("delegate", delegate.rawValue); put(body.kind == "workplace" ? "workplace" : "from_council", body.id.rawValue)
        put("votes", votes(recalled))
    case .delegateStatus(let delegate, let status, let note):
        put("delegate", delegate.rawValue); put("status", status.rawValue); put("note", note)
    case .delegateSafety(let delegate, let status, let until, let note):
        put("delegate", delegate.rawValue); put("status", status.rawValue); put("until", until?.text); put("note", note)
    case .demandProposed(let demand, let text, let category, let by):
        put("demand", demand.rawValue); put("text", text); put("category", category.rawValue); put("by", by?.rawValue)
    case .demandAdopted(let demand, let workplace, let adopted):
        put("demand", demand.rawValue); put("workplace", workplace.rawValue); put("votes", votes(adopted))
    case .demandOutcome(let demand, let workplace, let outcome):
        put("demand", demand.rawValue); put("workplace", workplace.rawValue); put("outcome", outcome.rawValue)
    case .actionCalled(let call):
        put("action", call.action.rawValue); put("kind", call.kind.rawValue); put("starts_at", call.startsAt.text)
        put("hours", count(call.hours)); put("demands", call.demands.map { $0.map(\.rawValue).joined(separator: ",") })
        put("text", call.text); put("by", call.by?.rawValue)
    case .actionJoined(let action, let workplace, let participants):
        put("action", action.rawValue); put("workplace", workplace.rawValue); put("participants", count(participants))
    }
    return out
}

/// The same rendering, from the JSON `data` (null fields are absent; abstain defaults to 0).
func renderedFields(_ data: JSONValue, spec: TypeSpec) -> [String: String] {
    var out: [String: String] = [:]
    guard case .object(let object) = data else { return out }
    for field in spec.fields {
        switch object[field.name] {
        case nil, .null?: continue
        case .string(let text)?: out[field.name] = text
        case .number(let number)?: out[field.name] = number.canonical
        case .array(let elements)?:
            out[field.name] = elements.map { if case .string(let text) = $0 { text } else { "?" } }.joined(separator: ",")
        case .object(let votes)?:
            func n(_ key: String) -> String { if case .number(let number)? = votes[key] { number.canonical } else { "0" } }
            out[field.name] = "\(n("for"))/\(n("against"))/\(n("abstain"))"
        case .bool?: out[field.name] = "?"
        }
    }
    return out
}

// MARK: - Valid messages

@Suite struct ValidMessages {
    @Test(arguments: typeSpecs)
    func minimal(spec: TypeSpec) throws {
        let message = try valid(JSONWriter.string(spec.message(data: spec.minimal), style: .compact))
        #expect(message.type.rawValue == spec.type)
        #expect(message.origin.rawValue == "tractor-works")
        #expect(message.seq == 1)
        #expect(message.sentAt.text == "2020-08-24T09:30:00+03:00")
        #expect(message.sig == nil)
        #expect(renderedFields(message.body) == renderedFields(spec.minimal, spec: spec))
        // Every optional field is absent in the body.
        #expect(renderedFields(message.body).count == spec.fields.filter(\.required).count)
    }

    @Test(arguments: typeSpecs)
    func full(spec: TypeSpec) throws {
        let message = try valid(JSONWriter.string(spec.message(data: spec.full), style: .compact))
        #expect(message.type.rawValue == spec.type)
        #expect(renderedFields(message.body) == renderedFields(spec.full, spec: spec))
        #expect(renderedFields(message.body).count == spec.fields.count)
    }

    /// Pretty-printed, keys in another order: the same message.
    @Test(arguments: typeSpecs)
    func fullPrettyPrinted(spec: TypeSpec) throws {
        let value = spec.message(data: spec.full)
        let compact = try valid(JSONWriter.string(value, style: .compact))
        let pretty = try valid(JSONWriter.string(value, style: .pretty))
        #expect(pretty.canonical == compact.canonical)
        #expect(renderedFields(pretty.body) == renderedFields(compact.body))
    }

    /// `null` is the same as absent: every optional field set to null.
    @Test(arguments: typeSpecs)
    func optionalNullIsAbsent(spec: TypeSpec) throws {
        var data = spec.minimal
        for field in spec.fields where !field.required { data = data.setting([field.name], to: .null) }
        let message = try valid(JSONWriter.string(spec.message(data: data), style: .compact))
        #expect(renderedFields(message.body) == renderedFields(spec.minimal, spec: spec))
    }

    /// Every allowed value of every closed vocabulary is accepted.
    @Test(arguments: allFields.filter { if case .choice = $0.field.kind { true } else { false } })
    func everyAllowedValue(testCase: FieldCase) throws {
        guard case .choice(let values) = testCase.field.kind else { return }
        for value in values {
            let data = testCase.spec.full.setting([testCase.field.name], to: .string(value))
            let message = try valid(JSONWriter.string(testCase.spec.message(data: data), style: .compact))
            #expect(renderedFields(message.body)[testCase.field.name] == value)
        }
    }

    @Test func abstainDefaultsToZero() throws {
        let text = message("delegate.elected", [
            "delegate": "rook", "workplace": "tractor-works", "council": "city-strike-council",
            "votes": .record(["for": 3, "against": 2]),
        ])
        guard case .delegateElected(_, _, _, let votes, let quorum) = try valid(text).body else {
            Issue.record("wrong body"); return
        }
        #expect(votes == Votes(for: 3, against: 2, abstain: 0))
        #expect(quorum == nil)
    }

    /// Optional strings may be empty; the envelope's `sig` is kept verbatim.
    @Test func emptyOptionalStringsAndSig() throws {
        let value = envelope(type: "workplace.reported", data: .record(["workplace": "tractor-works", "name": "", "town": ""]))
            .setting(["sig"], to: "ed25519:3q2+7w==")
        let message = try valid(JSONWriter.string(value, style: .compact))
        guard case .workplaceReported(let report) = message.body else { Issue.record("wrong body"); return }
        #expect(report.name == "")
        #expect(report.town == "")
        #expect(message.sig == "ed25519:3q2+7w==")
        // The signature is part of the copy's identity.
        #expect(String(decoding: message.canonical, as: UTF8.self).contains("\"sig\":\"ed25519:3q2+7w==\""))
    }

    @Test func sigNullIsAbsent() throws {
        let value = envelope(type: "strike.reported", data: .record(["workplace": "tractor-works", "status": "strike"]))
            .setting(["sig"], to: .null)
        #expect(try valid(JSONWriter.string(value, style: .compact)).sig == nil)
    }

    /// Unknown `data` fields are ignored (forward compatible), whatever their shape.
    @Test func unknownDataFieldsAccepted() throws {
        let value = envelope(type: "strike.reported", data: .record([
            "workplace": "tractor-works", "status": "strike",
            "shift": "night", "sections": ["assembly", "foundry"], "extra": .record(["deep": [1, -2, .null, true]]),
        ]))
        let message = try valid(JSONWriter.string(value, style: .compact))
        #expect(renderedFields(message.body) == ["workplace": "tractor-works", "status": "strike"])
        // Kept in the identity, though: the copy is what it is.
        #expect(String(decoding: message.canonical, as: UTF8.self).contains("\"shift\":\"night\""))
    }

    /// The count limit is for counts: any other number, an unknown field's
    /// or `seq`, may be any integer within 64 bits.
    @Test func otherNumbersKeepTheWhole64Bits() throws {
        let text = message("strike.reported", ["workplace": "tractor-works", "status": "strike",
                                                "shift": .number(JSONNumber(.max)), "floor": .number(JSONNumber(.min))])
        _ = try valid(text)
    }

    /// The counts' limit is an admission rule: a message read back from the
    /// store (a store written before the limit) keeps the counts it had.
    @Test func storedMessagesKeepLargerCounts() {
        let text = message("strike.reported", ["workplace": "tractor-works", "status": "strike", "participants": .number(JSONNumber(.max))])
        #expect(read(text).rejection?.code == .outOfRange)
        #expect(read(text, policy: .stored).message != nil)
    }

    /// Unknown fields inside `votes` are ignored like other unknown data.
    @Test func unknownVotesFieldAccepted() throws {
        let text = message("delegate.recalled", [
            "delegate": "rook", "workplace": "tractor-works",
            "votes": .record(["for": 30, "against": 2, "spoilt": 1]),
        ])
        _ = try valid(text)
    }

    @Test(arguments: [
        ("the largest count", "2000000", ValidationPolicy.maximumCount),
        ("zero", "0", 0),
        ("minus zero", "-0", 0),
    ])
    func integerEdges(label: String, literal: String, expected: Int64) throws {
        let text = message("workplace.reported", ["workplace": "tractor-works", "headcount": .number(JSONNumber(literal: literal))])
        guard case .workplaceReported(let report) = try valid(text).body else { Issue.record("wrong body"); return }
        #expect(report.headcount == expected)
    }

    @Test func sequenceNumberEdges() throws {
        #expect(try valid(JSONWriter.string(envelope(type: "strike.reported", data: .record(["workplace": "x", "status": "strike"]), seq: 1), style: .compact)).seq == 1)
        #expect(try valid(JSONWriter.string(envelope(type: "strike.reported", data: .record(["workplace": "x", "status": "strike"]), seq: .max), style: .compact)).seq == .max)
    }

    @Test(arguments: ["a", "0", "9-9", "a-", "a--b", repeated("a", 63), "mtz-2020"])
    func validSlugs(slug: String) throws {
        let text = message("strike.reported", ["workplace": .string(slug), "status": "strike"], origin: slug)
        let message = try valid(text)
        #expect(message.origin.rawValue == slug)
    }

    @Test func emptyDemandListAccepted() throws {
        let text = message("action.called", ["action": "a", "kind": "rally", "starts_at": "2020-08-30T14:00:00+03:00", "demands": []])
        guard case .actionCalled(let call) = try valid(text).body else { Issue.record("wrong body"); return }
        #expect(call.demands == [])
    }
}

// MARK: - Broken rules, field by field

let badSlugs: [(String, String)] = [
    ("uppercase", "Tractor-works"),
    ("leading hyphen", "-tractor"),
    ("64 characters", repeated("a", 64)),
    ("empty", ""),
    ("non-ASCII", "завод"),
    ("accented", "tractör"),
    ("space", "tractor works"),
    ("underscore", "tractor_works"),
    ("dot", "tractor.works"),
]

let wrongTypeValues: [(String, JSONValue)] = [
    ("number", 5), ("boolean", true), ("array", ["a"]), ("object", .record(["a": "b"])),
]

func rejectedCases(for testCase: FieldCase) -> [Rejected] {
    let spec = testCase.spec
    let field = testCase.field
    let path = "data.\(field.name)"
    var cases: [Rejected] = []
    func with(_ value: JSONValue?) -> JSONValue { spec.message(data: spec.full.setting([field.name], to: value)) }
    let name = "\(spec.type) \(field.name)"

    if field.required {
        // An election's or recall's body is workplace or from_council: with
        // neither, the message is bad-value (either alone would do).
        let code: ReasonCode = spec.type.hasPrefix("delegate.") && field.name == "workplace" ? .badValue : .missingField
        cases.append(Rejected("\(name) missing", with(nil), code, field: path))
        cases.append(Rejected("\(name) null", with(.null), code, field: path))
    }
    for (label, value) in wrongTypeValues {
        // An array of slugs may be an array; a votes object may be an object.
        if case .slugs = field.kind, label == "array" { continue }
        if case .votes = field.kind, label == "object" { continue }
        if case .count = field.kind, label == "number" { continue }
        cases.append(Rejected("\(name) \(label)", with(value), .badValue, field: path))
    }
    switch field.kind {
    case .slug:
        for (label, slug) in badSlugs {
            cases.append(Rejected("\(name) slug \(label)", with(.string(slug)), .badValue, field: path))
        }
    case .slugs:
        for (label, slug) in badSlugs {
            cases.append(Rejected("\(name) element \(label)", with(["new-elections", .string(slug)]), .badValue, field: "\(path)[1]"))
        }
        cases.append(Rejected("\(name) element number", with([5]), .badValue, field: "\(path)[0]"))
        cases.append(Rejected("\(name) string", with("new-elections"), .badValue, field: path))
        cases.append(Rejected("\(name) 101 elements", with(.array(Array(repeating: "x", count: 101))), .badValue, field: path))
    case .text:
        cases.append(Rejected("\(name) 501 ASCII", with(.string(repeated("a", 501))), .badValue, field: path))
        cases.append(Rejected("\(name) 501 two-byte", with(.string(repeated("é", 501))), .badValue, field: path))
        cases.append(Rejected("\(name) 501 four-byte", with(.string(repeated("✊🏽", 250) + "a")), .badValue, field: path))
        // 251 user-perceived characters but 502 scalars: the limit counts scalars.
        cases.append(Rejected("\(name) 502 scalars in 251 characters", with(.string(repeated("e\u{301}", 251))), .badValue, field: path))
        for scalar: Unicode.Scalar in ["\u{0}", "\u{1}", "\u{8}", "\u{B}", "\u{C}", "\u{1B}", "\u{1F}", "\u{7F}", "\u{85}", "\u{9B}"] {
            let text = "before" + String(Character(scalar)) + "after"
            cases.append(Rejected("\(name) control U+\(String(scalar.value, radix: 16))", with(.string(text)), .badValue, field: path))
        }
        if field.required {
            cases.append(Rejected("\(name) empty", with(""), .badValue, field: path))
        }
    case .choice(let values):
        cases.append(Rejected("\(name) bogus", with("bogus"), .badValue, field: path))
        cases.append(Rejected("\(name) upper case", with(.string(values[0].uppercased())), .badValue, field: path))
        cases.append(Rejected("\(name) padded", with(.string(" " + values[0])), .badValue, field: path))
        cases.append(Rejected("\(name) empty", with(""), .badValue, field: path))
    case .count:
        cases.append(contentsOf: badIntegers(name: name, path: path) { with(.number($0)) })
        cases.append(Rejected("\(name) negative", with(-1), .badValue, field: path))
        cases.append(Rejected("\(name) one above the limit", with(.number(JSONNumber(ValidationPolicy.maximumCount + 1))), .outOfRange, field: path))
        cases.append(Rejected("\(name) 2^63 - 1", with(.number(JSONNumber(.max))), .outOfRange, field: path))
        cases.append(Rejected("\(name) -2^63", with(.number(JSONNumber(.min))), .badValue, field: path))
    case .votes:
        for part in ["for", "against", "abstain"] {
            let inner = "\(path).\(part)"
            func votes(_ value: JSONValue?) -> JSONValue { with(sampleVotes.setting([part], to: value)) }
            if part != "abstain" {
                cases.append(Rejected("\(name).\(part) missing", votes(nil), .missingField, field: inner))
                cases.append(Rejected("\(name).\(part) null", votes(.null), .missingField, field: inner))
            }
            cases.append(Rejected("\(name).\(part) negative", votes(-1), .badValue, field: inner))
            cases.append(Rejected("\(name).\(part) string", votes("5"), .badValue, field: inner))
            cases.append(Rejected("\(name).\(part) one above the limit", votes(.number(JSONNumber(ValidationPolicy.maximumCount + 1))), .outOfRange, field: inner))
            cases.append(contentsOf: badIntegers(name: "\(name).\(part)", path: inner) { votes(.number($0)) })
        }
        let huge = JSONValue.number(JSONNumber(.max))
        cases.append(Rejected("\(name) sum would overflow", with(.record(["for": huge, "against": 1, "abstain": huge])), .outOfRange, field: "\(path).for"))
    case .time:
        cases.append(Rejected("\(name) no offset", with("2020-08-28T08:00:00"), .badValue, field: path))
        cases.append(Rejected("\(name) date only", with("2020-08-28"), .badValue, field: path))
        cases.append(Rejected("\(name) Feb 30", with("2020-02-30T08:00:00+03:00"), .badValue, field: path))
    }
    return cases
}

func badIntegers(name: String, path: String, _ make: (JSONNumber) -> JSONValue) -> [Rejected] {
    [
        ("fraction", "1.5"), ("zero fraction", "1.0"), ("exponent", "1e3"), ("capital exponent", "1E3"),
        ("negative exponent", "100e-2"), ("beyond 64 bits", "9223372036854775808"),
        ("far beyond 64 bits", "123456789012345678901234567890"),
    ].map { label, literal in
        Rejected("\(name) \(label)", make(JSONNumber(literal: literal)), .badValue, field: path)
    }
}

@Suite struct FieldRules {
    @Test(arguments: allFields)
    func brokenField(testCase: FieldCase) {
        let cases = rejectedCases(for: testCase)
        #expect(!cases.isEmpty)
        for rejected in cases { expectRejected(rejected) }
    }

    /// 500 scalars is the limit, however many bytes they take.
    @Test(arguments: allFields.filter { if case .text = $0.field.kind { true } else { false } })
    func stringOf500Accepted(testCase: FieldCase) throws {
        for text in [repeated("a", 500), repeated("é", 500), repeated("✊", 500), repeated("🚩", 500), repeated("e\u{301}", 250),
                     "tab\there", "line\nfeed", "carriage\r\nreturn"] {
            let data = testCase.spec.full.setting([testCase.field.name], to: .string(text))
            let message = try valid(JSONWriter.string(testCase.spec.message(data: data), style: .compact))
            #expect(renderedFields(message.body)[testCase.field.name] == text)
        }
    }
}

// MARK: - The envelope

let baseMessage = envelope(type: "strike.reported", data: .record(["workplace": "tractor-works", "status": "strike"]))

let envelopeCases: [Rejected] = {
    var cases: [Rejected] = []
    for field in ["v", "origin", "seq", "sent_at", "type", "data"] {
        cases.append(Rejected("\(field) missing", baseMessage.setting([field], to: nil), .missingField, field: "\"\(field)\""))
        cases.append(Rejected("\(field) null", baseMessage.setting([field], to: .null), .missingField, field: "\"\(field)\""))
    }
    let badVersions: [(String, JSONValue)] = [
        ("2", 2), ("0", 0), ("string 1", "1"), ("1.0", .number(JSONNumber(literal: "1.0"))), ("true", true), ("array", [1]),
    ]
    for (label, value) in badVersions {
        cases.append(Rejected("v \(label)", baseMessage.setting(["v"], to: value), .version, field: "\"v\""))
    }
    for (label, slug) in badSlugs {
        cases.append(Rejected("origin \(label)", baseMessage.setting(["origin"], to: .string(slug)), .badValue, field: "\"origin\""))
    }
    cases.append(Rejected("origin number", baseMessage.setting(["origin"], to: 7), .badValue, field: "\"origin\""))
    let badSeqs: [(String, JSONValue)] = [("0", 0), ("-1", -1), ("string", "1"), ("boolean", true)]
    for (label, value) in badSeqs {
        cases.append(Rejected("seq \(label)", baseMessage.setting(["seq"], to: value), .badValue, field: "\"seq\""))
    }
    cases += badIntegers(name: "seq", path: "\"seq\"") { baseMessage.setting(["seq"], to: .number($0)) }
    let badTypes: [(String, JSONValue)] = [("number", 5), ("empty", ""), ("array", ["strike.reported"])]
    for (label, value) in badTypes {
        cases.append(Rejected("type \(label)", baseMessage.setting(["type"], to: value), .badValue, field: "\"type\""))
    }
    for type in ["strike.called", "Strike.Reported", "strike", "strike.reported ", "delegate.released"] {
        cases.append(Rejected("type \(type)", baseMessage.setting(["type"], to: .string(type)), .unknownType, field: type.trimmingSuffix()))
    }
    let badData: [(String, JSONValue)] = [("array", []), ("string", "x"), ("number", 5), ("boolean", false)]
    for (label, value) in badData {
        cases.append(Rejected("data \(label)", baseMessage.setting(["data"], to: value), .badValue, field: "\"data\""))
    }
    let badSigs: [(String, JSONValue)] = [
        ("empty", ""), ("number", 5), ("object", .record(["alg": "ed25519"])), ("501 chars", .string(repeated("s", 501))),
    ]
    for (label, value) in badSigs {
        cases.append(Rejected("sig \(label)", baseMessage.setting(["sig"], to: value), .badValue, field: "\"sig\""))
    }
    for key in ["note", "Sig", "V", "signature", "sent-at", "data2", "\u{73}ig\u{301}"] {
        cases.append(Rejected("unknown envelope field \(key)", baseMessage.setting([key], to: "x"), .unknownField, field: key))
    }
    // Numbers inside unknown data fields follow the same rule as known ones.
    for (label, literal) in [("fraction", "0.5"), ("exponent", "2e1"), ("beyond 64 bits", "18446744073709551616"), ("below 64 bits", "-9223372036854775809")] {
        cases.append(Rejected("unknown data field \(label)", baseMessage.setting(["data", "shift_hours"], to: .number(JSONNumber(literal: literal))), .badValue, field: "data.shift_hours"))
    }
    cases.append(Rejected(
        "nested unknown data field fraction",
        baseMessage.setting(["data", "extra"], to: .record(["deep": [1, .number(JSONNumber(literal: "2.5"))]])),
        .badValue, field: "data.extra.deep[1]"
    ))
    cases.append(Rejected("unknown field inside votes, fraction", envelope(type: "delegate.elected", data: .record([
        "delegate": "rook", "workplace": "tractor-works", "council": "c",
        "votes": .record(["for": 3, "against": 1, "spoilt": .number(JSONNumber(literal: "0.5"))]),
    ])), .badValue, field: "data.votes.spoilt"))
    for text in ["[]", "\"strike\"", "17", "null", "true", "[{\"v\":1}]"] {
        cases.append(Rejected("not an object: \(text)", text: text, .notObject, field: nil))
    }
    return cases
}()

extension String {
    fileprivate func trimmingSuffix() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

@Suite struct EnvelopeRules {
    @Test(arguments: envelopeCases)
    func rejected(testCase: Rejected) {
        expectRejected(testCase)
    }

    /// The envelope is read even when the rest is invalid, so the copy counts
    /// as arrived for gaps.
    @Test func envelopeOfAnInvalidCopy() {
        let reading = read(baseMessage.setting(["data", "status"], to: "bogus"))
        #expect(reading.rejection?.code == .badValue)
        #expect(reading.envelope == Envelope(origin: Slug("tractor-works")!, seq: 1))
    }

    @Test func noEnvelopeWhenSeqIsBad() {
        #expect(read(baseMessage.setting(["seq"], to: 0)).envelope == nil)
        #expect(read(baseMessage.setting(["origin"], to: "Bad")).envelope == nil)
    }
}

// MARK: - Elections and recalls

func election(for yes: Int64, against no: Int64, abstain: Int64? = nil, quorum: Int64? = nil) -> JSONValue {
    var votes = JSONValue.record(["for": .number(JSONNumber(yes)), "against": .number(JSONNumber(no))])
    if let abstain { votes = votes.setting(["abstain"], to: .number(JSONNumber(abstain))) }
    var data = JSONValue.record([
        "delegate": "rook", "workplace": "tractor-works", "council": "city-strike-council", "votes": votes,
    ])
    if let quorum { data = data.setting(["quorum"], to: .number(JSONNumber(quorum))) }
    return envelope(type: "delegate.elected", data: data)
}

func recall(for yes: Int64, against no: Int64, abstain: Int64? = nil) -> JSONValue {
    var votes = JSONValue.record(["for": .number(JSONNumber(yes)), "against": .number(JSONNumber(no))])
    if let abstain { votes = votes.setting(["abstain"], to: .number(JSONNumber(abstain))) }
    return envelope(type: "delegate.recalled", data: .record(["delegate": "rook", "workplace": "tractor-works", "votes": votes]))
}

@Suite struct VoteRules {
    @Test(arguments: [
        Rejected("election tie", election(for: 10, against: 10), .notCarried, field: "10 for, 10 against"),
        Rejected("election lost", election(for: 5, against: 10), .notCarried, field: "5 for, 10 against"),
        Rejected("election nobody voted", election(for: 0, against: 0), .notCarried, field: "0 for"),
        Rejected("election tie, abstentions do not help", election(for: 10, against: 10, abstain: 100), .notCarried, field: nil),
        Rejected("recall tie", recall(for: 7, against: 7), .notCarried, field: "the recall did not carry"),
        Rejected("recall lost", recall(for: 3, against: 40, abstain: 2), .notCarried, field: "3 for, 40 against"),
        Rejected("inquorate", election(for: 200, against: 50, abstain: 49, quorum: 300), .inquorate, field: "299 voted, the quorum is 300"),
        Rejected("inquorate without abstentions", election(for: 2, against: 1, quorum: 4), .inquorate, field: "quorum is 4"),
        // Both broken: carrying is checked first.
        Rejected("lost and inquorate", election(for: 1, against: 2, quorum: 100), .notCarried, field: nil),
        Rejected("negative quorum", election(for: 2, against: 1, quorum: -1), .badValue, field: "data.quorum"),
    ])
    func rejected(testCase: Rejected) {
        expectRejected(testCase)
    }

    @Test(arguments: [
        ("carried by one", election(for: 11, against: 10)),
        ("exactly quorate", election(for: 200, against: 50, abstain: 50, quorum: 300)),
        ("above quorum", election(for: 301, against: 0, quorum: 300)),
        ("quorum zero", election(for: 1, against: 0, quorum: 0)),
        ("every count at the limit", election(for: ValidationPolicy.maximumCount, against: ValidationPolicy.maximumCount - 1,
                                              abstain: ValidationPolicy.maximumCount, quorum: ValidationPolicy.maximumCount)),
        ("recall carried by one", recall(for: 8, against: 7)),
        // A recall has no quorum field (docs/messages.md): one written anyway is an
        // unknown data field and is ignored.
        ("recall with an ignored quorum", recall(for: 2, against: 1).setting(["data", "quorum"], to: 1000)),
    ])
    func accepted(label: String, value: JSONValue) throws {
        _ = try valid(JSONWriter.string(value, style: .compact))
    }

    /// A demand adoption's votes are recorded, not judged: docs/messages.md names
    /// only elections and recalls as having to carry.
    @Test func adoptionVotesAreNotJudged() throws {
        let text = message("demand.adopted", ["demand": "new-elections", "workplace": "tractor-works", "votes": .record(["for": 1, "against": 9])])
        guard case .demandAdopted(_, _, let votes) = try valid(text).body else { Issue.record("wrong body"); return }
        #expect(votes == Votes(for: 1, against: 9, abstain: 0))
    }
}

// MARK: - The clock

@Suite struct Future {
    // septemberFirst is 2020-09-01T00:00:00Z = 03:00:00+03:00.
    @Test(arguments: [
        ("now", "2020-09-01T03:00:00+03:00"),
        ("15 min ahead", "2020-09-01T03:15:00+03:00"),
        ("15 min ahead in UTC", "2020-09-01T00:15:00Z"),
        ("15 min ahead, written as the previous day west of UTC", "2020-08-31T14:15:00-10:00"),
        ("15 min ahead, zero fraction", "2020-09-01T00:15:00.000Z"),
        ("long past", "2020-08-17T08:00:00+03:00"),
    ])
    func accepted(label: String, sentAt: String) throws {
        _ = try valid(JSONWriter.string(baseMessage.setting(["sent_at"], to: .string(sentAt)), style: .compact))
    }

    @Test(arguments: [
        ("15 min 1 s ahead", "2020-09-01T03:15:01+03:00"),
        ("15 min 1 s ahead in UTC", "2020-09-01T00:15:01Z"),
        ("15 min and a fraction ahead", "2020-09-01T00:15:00.5Z"),
        ("15 min and a microsecond ahead", "2020-09-01T00:15:00.000001Z"),
        ("a typo in the year", "2120-08-25T10:00:00+03:00"),
    ])
    func rejected(label: String, sentAt: String) {
        expectRejected(Rejected(label, baseMessage.setting(["sent_at"], to: .string(sentAt)), .future, field: "\"sent_at\""))
    }

    @Test func customSkew() throws {
        let strict = ValidationPolicy(now: septemberFirst, maximumFutureSkew: 0)
        let atNow = baseMessage.setting(["sent_at"], to: "2020-09-01T00:00:00Z")
        let oneSecondAhead = baseMessage.setting(["sent_at"], to: "2020-09-01T00:00:01Z")
        #expect(read(atNow, policy: strict).message != nil)
        #expect(read(oneSecondAhead, policy: strict).rejection?.code == .future)

        let lenient = ValidationPolicy(now: septemberFirst, maximumFutureSkew: 3600)
        #expect(read(baseMessage.setting(["sent_at"], to: "2020-09-01T01:00:00Z"), policy: lenient).message != nil)
        #expect(read(baseMessage.setting(["sent_at"], to: "2020-09-01T01:00:01Z"), policy: lenient).rejection?.code == .future)
        // And the default really is 15 minutes.
        #expect(ValidationPolicy(now: 0).maximumFutureSkew == 900)
    }

    /// Any clock and skew give a verdict, never an overflow: a skew of
    /// 2^63 - 1 is no limit, a clock at either end of 64 bits still judges.
    @Test(arguments: [
        (Int64.max, Int64.max, true), (Int64.max, 0, true), (0, Int64.max, true), (septemberFirst, Int64.max, true),
        (Int64.min, 0, false), (Int64.min, Int64.min, false), (septemberFirst, Int64.min, false), (Int64.min, Int64.max, false),
    ])
    func extremeClocksAndSkews(now: Int64, skew: Int64, accepted: Bool) throws {
        let policy = ValidationPolicy(now: now, maximumFutureSkew: skew)
        for sentAt in ["2020-09-01T00:00:00Z", "9999-12-31T23:59:59.999Z"] {
            let reading = read(baseMessage.setting(["sent_at"], to: .string(sentAt)), policy: policy)
            if accepted {
                #expect(reading.message != nil, "\(sentAt): \(reading.rejection?.detail ?? "")")
            } else {
                #expect(reading.rejection?.code == .future, "\(sentAt)")
            }
        }
    }

    @Test func storedPolicySkipsTheClock() throws {
        let farFuture = baseMessage.setting(["sent_at"], to: "2120-08-25T10:00:00+03:00")
        #expect(read(farFuture).rejection?.code == .future)
        #expect(read(farFuture, policy: .stored).message != nil)
        #expect(ValidationPolicy.stored.now == nil)
    }

    /// `starts_at` may lie in the future: actions are called ahead of time.
    @Test func startsAtMayBeFuture() throws {
        let text = message("action.called", ["action": "a", "kind": "general-strike", "starts_at": "2030-01-01T00:00:00Z"])
        _ = try valid(text)
    }

    @Test func detailSaysHowFarAhead() {
        let reading = read(baseMessage.setting(["sent_at"], to: "2020-09-01T01:00:00Z"))
        #expect(reading.rejection?.detail.contains("1 h in the future") == true)
        #expect(reading.rejection?.detail.contains("the limit is 15 min") == true)
    }
}

// MARK: - RFC 3339

@Suite struct SentAt {
    @Test(arguments: [
        ("offset +03:00", "2020-08-24T09:30:00+03:00", 1_598_250_600 as Int64),
        ("Z", "2020-08-24T06:30:00Z", 1_598_250_600),
        ("lower-case t and z", "2020-08-24t06:30:00z", 1_598_250_600),
        ("negative offset with minutes", "2020-08-24T01:00:00-05:30", 1_598_250_600),
        ("-00:00", "2020-08-24T06:30:00-00:00", 1_598_250_600),
        ("+00:00", "2020-08-24T06:30:00+00:00", 1_598_250_600),
        ("largest offset", "2020-08-25T06:29:00+23:59", 1_598_250_600),
        ("fraction", "2020-08-24T09:30:00.123456789+03:00", 1_598_250_600),
        ("one fraction digit", "2020-08-24T09:30:00.5+03:00", 1_598_250_600),
        ("Feb 29 in a leap year", "2020-02-29T12:00:00Z", 1_582_977_600),
        ("Feb 29 in a year divisible by 400", "2000-02-29T12:00:00Z", 951_825_600),
        ("new year in Minsk is still the old year in UTC", "2021-01-01T01:30:00+03:00", 1_609_453_800),
        ("old year in Honolulu is the new year in UTC", "2020-12-31T14:30:00-10:00", 1_609_461_000),
        ("the epoch", "1970-01-01T00:00:00Z", 0),
        ("first second of year 1", "0001-01-01T00:00:00Z", -62_135_596_800),
        ("last second of year 9999", "9999-12-31T23:59:59Z", 253_402_300_799),
        ("23:59:59", "2020-08-24T23:59:59Z", 1_598_313_599),
    ])
    func accepted(label: String, text: String, epochSeconds: Int64) throws {
        let message = try valid(JSONWriter.string(baseMessage.setting(["sent_at"], to: .string(text)), style: .compact), policy: .stored)
        #expect(message.sentAt.epochSeconds == epochSeconds)
        #expect(message.sentAt.text == text)
    }

    @Test(arguments: [
        ("no offset", "2020-08-24T09:30:00"),
        ("no offset with fraction", "2020-08-24T09:30:00.5"),
        ("Feb 29 in a common year", "2019-02-29T12:00:00Z"),
        ("Feb 29 in a century year", "1900-02-29T12:00:00Z"),
        ("24:00", "2020-08-24T24:00:00Z"),
        ("leap second", "2016-12-31T23:59:60Z"),
        ("minute 60", "2020-08-24T09:60:00Z"),
        ("month 13", "2020-13-01T00:00:00Z"),
        ("month 0", "2020-00-01T00:00:00Z"),
        ("day 0", "2020-08-00T00:00:00Z"),
        ("April 31", "2020-04-31T00:00:00Z"),
        ("space for T", "2020-08-24 09:30:00+03:00"),
        ("no seconds", "2020-08-24T09:30+03:00"),
        ("one-digit month", "2020-8-24T09:30:00+03:00"),
        ("empty fraction", "2020-08-24T09:30:00.+03:00"),
        ("comma fraction", "2020-08-24T09:30:00,5+03:00"),
        ("offset without colon", "2020-08-24T09:30:00+0300"),
        ("offset hours only", "2020-08-24T09:30:00+03"),
        ("offset 24:00", "2020-08-24T09:30:00+24:00"),
        ("offset minute 60", "2020-08-24T09:30:00+03:60"),
        ("trailing text", "2020-08-24T09:30:00+03:00 MSK"),
        ("leading space", " 2020-08-24T09:30:00+03:00"),
        ("year 0 via offset", "0001-01-01T00:30:00+01:00"),
        ("year 10000 via offset", "9999-12-31T23:30:00-01:00"),
        ("five-digit year", "10000-01-01T00:00:00Z"),
        ("date only", "2020-08-24"),
        ("unix time as text", "1598250600"),
        ("empty", ""),
        ("full-width digits", "２020-08-24T09:30:00Z"),
    ])
    func rejected(label: String, text: String) {
        expectRejected(Rejected(label, baseMessage.setting(["sent_at"], to: .string(text)), .badValue, field: "\"sent_at\""), policy: .stored)
    }

    @Test func notAString() {
        expectRejected(Rejected("number", baseMessage.setting(["sent_at"], to: 1_598_250_600), .badValue, field: "\"sent_at\""))
    }
}

// MARK: - Size

@Suite struct Size {
    /// A valid message padded with spaces (which JSON allows) to `size` bytes.
    func padded(to size: Int) -> [UInt8] {
        var bytes = Array(JSONWriter.string(baseMessage, style: .compact).utf8)
        bytes.removeLast() // the closing brace
        bytes += Array(repeating: UInt8(ascii: " "), count: size - bytes.count - 1)
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    @Test func exactly64KiBAccepted() {
        let bytes = padded(to: 65_536)
        #expect(bytes.count == 65_536)
        #expect(MessageReader.read(bytes, policy: testPolicy).message != nil)
    }

    @Test func oneByteMoreIsTooLarge() {
        let bytes = padded(to: 65_537)
        let reading = MessageReader.read(bytes, policy: testPolicy)
        #expect(reading.rejection?.code == .tooLarge)
        #expect(reading.rejection?.detail.contains("65537") == true)
        // Not even parsed: identified by its bytes, no envelope.
        #expect(reading.identity == .bytes(bytes))
        #expect(reading.envelope == nil)
    }

    @Test func tooLargeWinsOverSyntax() {
        let bytes = Array(repeating: UInt8(ascii: "x"), count: 65_537)
        #expect(MessageReader.read(bytes, policy: testPolicy).rejection?.code == .tooLarge)
    }
}

// MARK: - Reading errors, as reason codes

@Suite struct ReadingErrors {
    @Test(arguments: [
        Rejected("syntax", text: "{\"v\":1,", .json, field: nil),
        Rejected("byte order mark", text: "\u{FEFF}{}", .json, field: "byte order mark"),
        Rejected("duplicate key", text: "{\"v\":1,\"v\":1}", .duplicateKey, field: "\"v\""),
        Rejected("duplicate key in data", text: "{\"data\":{\"status\":\"strike\",\"status\":\"working\"}}", .duplicateKey, field: "status"),
        Rejected("lone surrogate", text: "{\"v\":\"\\ud800\"}", .surrogate, field: nil),
        Rejected("empty", text: "", .json, field: nil),
        Rejected("blank", text: "  \n", .json, field: nil),
    ])
    func rejected(testCase: Rejected) {
        expectRejected(testCase)
        #expect(read(testCase.text).envelope == nil)
        #expect(read(testCase.text).identity == .bytes(Array(testCase.text.utf8)))
    }

    @Test func invalidUTF8() {
        let bytes: [UInt8] = Array("{\"v\":\"".utf8) + [0xC0, 0xAF] + Array("\"}".utf8)
        let reading = MessageReader.read(bytes, policy: testPolicy)
        #expect(reading.rejection?.code == .utf8)
        #expect(reading.identity == .bytes(bytes))
    }
}

/// Format v2: the electing body (exactly one of workplace and from_council)
/// and the safety report's `until`.
@Suite struct ElectingBodyAndSafety {
    static let votes: JSONValue = .record(["for": 9, "against": 2])

    @Test(arguments: ["delegate.elected", "delegate.recalled"])
    func fromCouncilIsAnElectingBody(type: String) throws {
        var data: JSONValue = .record(["delegate": "rook", "from_council": "minsk-city", "votes": Self.votes])
        if type == "delegate.elected" { data = data.setting(["council"], to: "minsk-region") }
        let body = try valid(JSONWriter.string(envelope(type: type, data: data), style: .compact)).body
        switch body {
        case .delegateElected(_, let by, let council, _, _):
            #expect(by == .council(Slug("minsk-city")!) && council == Slug("minsk-region"))
        case .delegateRecalled(_, let by, _):
            #expect(by == .council(Slug("minsk-city")!))
        default:
            Issue.record("unexpected body \(body)")
        }
    }

    @Test(arguments: ["delegate.elected", "delegate.recalled"])
    func bothOrNeitherIsBadValue(type: String) {
        let base: JSONValue = .record(["delegate": "rook", "council": "minsk-region", "votes": Self.votes])
        let both = base.setting(["workplace"], to: "mtz").setting(["from_council"], to: "minsk-city")
        expectRejected(Rejected("\(type) both", envelope(type: type, data: both), .badValue, field: "data.from_council"))
        expectRejected(Rejected("\(type) neither", envelope(type: type, data: base), .badValue, field: "data.from_council"))
        let badSlug = base.setting(["from_council"], to: "Minsk City")
        expectRejected(Rejected("\(type) bad from_council", envelope(type: type, data: badSlug), .badValue, field: "data.from_council"))
    }

    @Test(arguments: [("2020-09-08", true), ("2024-02-29", true), ("2023-02-29", false), ("2020-13-01", false),
                      ("2020-09-8", false), ("2020-09-08T00:00:00Z", false), ("0000-01-01", false), ("2020-04-31", false)])
    func untilIsADate(text: String, accepted: Bool) throws {
        let data: JSONValue = .record(["delegate": "rook", "status": "arrested", "until": .string(text)])
        let message = JSONWriter.string(envelope(type: "delegate.safety", data: data), style: .compact)
        if accepted {
            guard case .delegateSafety(_, .arrested, let until, nil) = try valid(message).body else {
                Issue.record("not a safety report")
                return
            }
            #expect(until?.text == text)
        } else {
            expectRejected(Rejected("until \(text)", text: message, .badValue, field: "data.until"))
        }
    }
}
