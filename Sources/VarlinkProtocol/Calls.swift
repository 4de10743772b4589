import StrikeCore

/// One page's worth of a list call: `limit` and `cursor`, both optional.
public struct PageParameters: Sendable, Equatable {
    public var limit: Int?
    public var cursor: String?

    public init(limit: Int? = nil, cursor: String? = nil) {
        self.limit = limit
        self.cursor = cursor
    }

    /// A page can be asked for at most this many items (the server may return fewer).
    public static let maximumLimit: Int64 = 1000

    static let keys: Set<String> = ["limit", "cursor"]

    init(_ parameters: Parameters) throws(VarlinkError) {
        // Larger limits are not an error: the server clamps them to its maximum.
        limit = try parameters.optionalInt("limit", minimum: 1).map { Int(min($0, Int64(Int32.max))) }
        cursor = try parameters.optionalString("cursor", maximumLength: 200)
    }

    func add(to builder: inout ParameterBuilder) {
        builder.add("limit", limit.map(Int64.init))
        builder.add("cursor", cursor)
    }
}

/// A call of `org.strikecd.Query`, read from its parameters (server) or made
/// to be sent (client). Decoding checks every parameter; see Parameters.
public enum QueryCall: Sendable, Equatable {
    case summary
    /// The state's fingerprint (Store+StateDigest.swift).
    case stateDigest
    /// The federation peers (Store+Federation.swift).
    case peers
    /// `strike`: "striking", or a status as in messages (working, strike, partial, go-slow, work-to-rule, lockout).
    case listWorkplaces(region: String?, town: String?, strike: String?, page: PageParameters)
    case getWorkplace(id: String)
    case listDelegates(workplace: String?, council: String?, status: DelegateStatus?, safety: SafetyStatus? = nil,
                       mandate: MandateStatus? = nil, page: PageParameters)
    case getDelegate(id: String)
    case getCouncil(id: String)
    /// `limit`: at most this many (the server caps it at 1000).
    case irregular(limit: Int?)
    case listCouncils(page: PageParameters)
    case listDemands(category: DemandCategory?, workplace: String?, page: PageParameters)
    case listDemandWorkplaces(demand: String, page: PageParameters)
    case listActions(workplace: String?, page: PageParameters)
    case listActionWorkplaces(action: String, page: PageParameters)
    case listRejected(page: PageParameters)
    case gaps(origin: String?, page: PageParameters)
    case unresolved(kind: EntityKind?, page: PageParameters)
    /// `subject`: nil for overall, `region:NAME` or `workplace:SLUG` (checked
    /// by `HistorySubject(text:)`); `from` and `to`: RFC 3339 instants.
    case history(subject: String?, from: String?, to: String?, step: HistoryStep, page: PageParameters)
    /// `regions`: 1 to `maximumHistoryRegions` names, as reported.
    case historyByRegion(regions: [String], from: String?, to: String?, step: HistoryStep, page: PageParameters)
    case watch

    /// The most regions one HistoryByRegion call takes.
    public static let maximumHistoryRegions = 10

    /// The values `ListWorkplaces` accepts for `strike`.
    public static let strikeFilters = ["striking"] + StrikeStatus.allCases.map(\.rawValue)

    /// Reads the call of method `name` (without the interface); throws
    /// MethodNotFound for a name the interface does not define.
    public init(name: String, parameters object: JSONObject) throws(VarlinkError) {
        func read(_ keys: Set<String>) throws(VarlinkError) -> Parameters { try Parameters(object, allowed: keys) }
        switch name {
        case "Summary":
            _ = try read([])
            self = .summary
        case "StateDigest":
            _ = try read([])
            self = .stateDigest
        case "Peers":
            _ = try read([])
            self = .peers
        case "ListWorkplaces":
            let p = try read(PageParameters.keys.union(["region", "town", "strike"]))
            let strike = try p.optionalString("strike")
            if let strike, !QueryCall.strikeFilters.contains(strike) { throw .invalidParameter("strike") }
            self = .listWorkplaces(
                region: try p.optionalString("region"), town: try p.optionalString("town"), strike: strike,
                page: try PageParameters(p))
        case "GetWorkplace":
            self = .getWorkplace(id: try read(["id"]).slug("id"))
        case "ListDelegates":
            let p = try read(PageParameters.keys.union(["workplace", "council", "status", "safety", "mandate"]))
            self = .listDelegates(
                workplace: try p.optionalSlug("workplace"), council: try p.optionalSlug("council"),
                status: try p.optionalEnum("status", DelegateStatus.self), safety: try p.optionalEnum("safety", SafetyStatus.self),
                mandate: try p.optionalEnum("mandate", MandateStatus.self), page: try PageParameters(p))
        case "GetDelegate":
            self = .getDelegate(id: try read(["id"]).slug("id"))
        case "GetCouncil":
            self = .getCouncil(id: try read(["id"]).slug("id"))
        case "Irregular":
            let p = try read(["limit"])
            self = .irregular(limit: try p.optionalInt("limit", minimum: 1).map { Int(min($0, PageParameters.maximumLimit)) })
        case "ListCouncils":
            self = .listCouncils(page: try PageParameters(try read(PageParameters.keys)))
        case "ListDemands":
            let p = try read(PageParameters.keys.union(["category", "workplace"]))
            self = .listDemands(
                category: try p.optionalEnum("category", DemandCategory.self), workplace: try p.optionalSlug("workplace"),
                page: try PageParameters(p))
        case "ListDemandWorkplaces":
            let p = try read(PageParameters.keys.union(["demand"]))
            self = .listDemandWorkplaces(demand: try p.slug("demand"), page: try PageParameters(p))
        case "ListActions":
            let p = try read(PageParameters.keys.union(["workplace"]))
            self = .listActions(workplace: try p.optionalSlug("workplace"), page: try PageParameters(p))
        case "ListActionWorkplaces":
            let p = try read(PageParameters.keys.union(["action"]))
            self = .listActionWorkplaces(action: try p.slug("action"), page: try PageParameters(p))
        case "ListRejected":
            self = .listRejected(page: try PageParameters(try read(PageParameters.keys)))
        case "Gaps":
            let p = try read(PageParameters.keys.union(["origin"]))
            self = .gaps(origin: try p.optionalSlug("origin"), page: try PageParameters(p))
        case "Unresolved":
            let p = try read(PageParameters.keys.union(["kind"]))
            self = .unresolved(kind: try p.optionalEnum("kind", EntityKind.self), page: try PageParameters(p))
        case "History":
            let p = try read(PageParameters.keys.union(["subject", "from", "to", "step"]))
            let subject = try p.optionalString("subject", maximumLength: 600)
            if let subject, HistorySubject(text: subject) == nil { throw .invalidParameter("subject") }
            let (from, to) = try QueryCall.span(p)
            self = .history(
                subject: subject, from: from, to: to, step: try p.optionalEnum("step", HistoryStep.self) ?? .day,
                page: try PageParameters(p))
        case "HistoryByRegion":
            let p = try read(PageParameters.keys.union(["regions", "from", "to", "step"]))
            let regions = try p.strings("regions", maximumCount: QueryCall.maximumHistoryRegions)
            let (from, to) = try QueryCall.span(p)
            self = .historyByRegion(
                regions: regions, from: from, to: to, step: try p.optionalEnum("step", HistoryStep.self) ?? .day,
                page: try PageParameters(p))
        case "Watch":
            _ = try read([])
            self = .watch
        default:
            throw .methodNotFound(Interface.query + "." + name)
        }
    }

    /// History's `from` and `to`: RFC 3339 instants.
    private static func span(_ p: Parameters) throws(VarlinkError) -> (String?, String?) {
        let from = try p.optionalString("from", maximumLength: 64)
        if let from, Timestamp(from) == nil { throw .invalidParameter("from") }
        let to = try p.optionalString("to", maximumLength: 64)
        if let to, Timestamp(to) == nil { throw .invalidParameter("to") }
        return (from, to)
    }

    /// The method's name without the interface.
    public var name: String {
        switch self {
        case .summary: "Summary"
        case .stateDigest: "StateDigest"
        case .peers: "Peers"
        case .listWorkplaces: "ListWorkplaces"
        case .getWorkplace: "GetWorkplace"
        case .listDelegates: "ListDelegates"
        case .getDelegate: "GetDelegate"
        case .getCouncil: "GetCouncil"
        case .irregular: "Irregular"
        case .listCouncils: "ListCouncils"
        case .listDemands: "ListDemands"
        case .listDemandWorkplaces: "ListDemandWorkplaces"
        case .listActions: "ListActions"
        case .listActionWorkplaces: "ListActionWorkplaces"
        case .listRejected: "ListRejected"
        case .gaps: "Gaps"
        case .unresolved: "Unresolved"
        case .history: "History"
        case .historyByRegion: "HistoryByRegion"
        case .watch: "Watch"
        }
    }

    /// The same call for another page.
    public func with(page: PageParameters) -> QueryCall {
        switch self {
        case .summary, .stateDigest, .peers, .getWorkplace, .getDelegate, .getCouncil, .irregular, .watch: self
        case .listWorkplaces(let region, let town, let strike, _): .listWorkplaces(region: region, town: town, strike: strike, page: page)
        case .listDelegates(let workplace, let council, let status, let safety, let mandate, _):
            .listDelegates(workplace: workplace, council: council, status: status, safety: safety, mandate: mandate, page: page)
        case .listCouncils: .listCouncils(page: page)
        case .listDemands(let category, let workplace, _): .listDemands(category: category, workplace: workplace, page: page)
        case .listDemandWorkplaces(let demand, _): .listDemandWorkplaces(demand: demand, page: page)
        case .listActions(let workplace, _): .listActions(workplace: workplace, page: page)
        case .listActionWorkplaces(let action, _): .listActionWorkplaces(action: action, page: page)
        case .listRejected: .listRejected(page: page)
        case .gaps(let origin, _): .gaps(origin: origin, page: page)
        case .unresolved(let kind, _): .unresolved(kind: kind, page: page)
        case .history(let subject, let from, let to, let step, _): .history(subject: subject, from: from, to: to, step: step, page: page)
        case .historyByRegion(let regions, let from, let to, let step, _):
            .historyByRegion(regions: regions, from: from, to: to, step: step, page: page)
        }
    }

    /// The call to send.
    public var call: VarlinkCall {
        var b = ParameterBuilder()
        switch self {
        case .summary, .stateDigest, .peers, .watch: break
        case .listWorkplaces(let region, let town, let strike, let page):
            b.add("region", region); b.add("town", town); b.add("strike", strike); page.add(to: &b)
        case .getWorkplace(let id), .getDelegate(let id), .getCouncil(let id): b.add("id", id)
        case .irregular(let limit): b.add("limit", limit.map(Int64.init))
        case .listDelegates(let workplace, let council, let status, let safety, let mandate, let page):
            b.add("workplace", workplace); b.add("council", council); b.add("status", status?.rawValue)
            b.add("safety", safety?.rawValue); b.add("mandate", mandate?.rawValue); page.add(to: &b)
        case .listCouncils(let page), .listRejected(let page): page.add(to: &b)
        case .listDemands(let category, let workplace, let page):
            b.add("category", category?.rawValue); b.add("workplace", workplace); page.add(to: &b)
        case .listDemandWorkplaces(let demand, let page): b.add("demand", demand); page.add(to: &b)
        case .listActions(let workplace, let page): b.add("workplace", workplace); page.add(to: &b)
        case .listActionWorkplaces(let action, let page): b.add("action", action); page.add(to: &b)
        case .gaps(let origin, let page): b.add("origin", origin); page.add(to: &b)
        case .unresolved(let kind, let page): b.add("kind", kind?.rawValue); page.add(to: &b)
        case .history(let subject, let from, let to, let step, let page):
            b.add("subject", subject); b.add("from", from); b.add("to", to); b.add("step", step.rawValue); page.add(to: &b)
        case .historyByRegion(let regions, let from, let to, let step, let page):
            b.add("regions", .array(regions.map { .string($0) })); b.add("from", from); b.add("to", to)
            b.add("step", step.rawValue); page.add(to: &b)
        }
        return VarlinkCall(method: Interface.query + "." + name, parameters: b.object, more: self == .watch)
    }
}

/// A call of `org.strikecd.Admin`.
public enum AdminCall: Sendable {
    /// Messages as JSON objects, at most `maximumMessages`.
    case submit([JSONValue])
    /// A file name in the quarantine directory (no directory part).
    case requeue(name: String)
    /// Every quarantined copy of a rejected version: its identity, 32 bytes.
    case requeueRejected(hash: [UInt8])
    case rescan
    /// A rejected version's identity: 32 bytes.
    case forget(hash: [UInt8])
    /// The same, to show what is kept of it.
    case showRejected(hash: [UInt8])

    public static let maximumMessages = 1000

    public init(name: String, parameters object: JSONObject) throws(VarlinkError) {
        switch name {
        case "Submit":
            let messages = try Parameters(object, allowed: ["messages"]).objects("messages")
            if messages.count > AdminCall.maximumMessages { throw .tooManyMessages(AdminCall.maximumMessages) }
            self = .submit(messages)
        case "Requeue":
            let file = try Parameters(object, allowed: ["name"]).string("name", maximumLength: 255)
            guard AdminCall.isPlainFileName(file) else { throw .invalidParameter("name") }
            self = .requeue(name: file)
        case "Rescan":
            _ = try Parameters(object, allowed: [])
            self = .rescan
        case "Forget", "ShowRejected", "RequeueRejected":
            let text = try Parameters(object, allowed: ["hash"]).string("hash", maximumLength: 64)
            guard let hash = AdminCall.hashBytes(text) else { throw .invalidParameter("hash") }
            self = name == "Forget" ? .forget(hash: hash) : name == "ShowRejected" ? .showRejected(hash: hash) : .requeueRejected(hash: hash)
        default:
            throw .methodNotFound(Interface.admin + "." + name)
        }
    }

    /// A name that stays inside one directory: not empty, not `.` or `..`, no
    /// `/`, no NUL, at most 255 bytes.
    public static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && name.utf8.count <= 255
            && !name.utf8.contains(UInt8(ascii: "/")) && !name.utf8.contains(0)
    }

    /// A hash as ListRejected shows it: lower-case hexadecimal, two digits a byte.
    public static func hashText(_ bytes: [UInt8]) -> String {
        bytes.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
    }

    /// 64 hexadecimal digits (either case) as 32 bytes; nil for anything else.
    public static func hashBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count == 64 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    public var name: String {
        switch self {
        case .submit: "Submit"
        case .requeue: "Requeue"
        case .requeueRejected: "RequeueRejected"
        case .rescan: "Rescan"
        case .forget: "Forget"
        case .showRejected: "ShowRejected"
        }
    }

    public var call: VarlinkCall {
        var b = ParameterBuilder()
        switch self {
        case .submit(let messages): b.add("messages", .array(messages))
        case .requeue(let name): b.add("name", name)
        case .rescan: break
        case .forget(let hash), .showRejected(let hash), .requeueRejected(let hash):
            b.add("hash", AdminCall.hashText(hash))
        }
        return VarlinkCall(method: Interface.admin + "." + name, parameters: b.object)
    }
}

/// A call of `org.varlink.service`.
public enum ServiceCall: Sendable, Equatable {
    case getInfo
    case getInterfaceDescription(interface: String)

    public init(name: String, parameters object: JSONObject) throws(VarlinkError) {
        switch name {
        case "GetInfo":
            _ = try Parameters(object, allowed: [])
            self = .getInfo
        case "GetInterfaceDescription":
            self = .getInterfaceDescription(interface: try Parameters(object, allowed: ["interface"]).string("interface"))
        default:
            throw .methodNotFound(Interface.service + "." + name)
        }
    }
}
