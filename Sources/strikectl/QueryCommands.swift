import ArgumentParser
import StrikeCore
import VarlinkProtocol

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the state in numbers (the Summary).",
        discussion: """
            With --json, prints exactly the object that `strikecd ingest` prints and Summary() returns; \
            with --digest too, that object has one more member, `digest`.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Also show the state's digest (StateDigest): two nodes hold the same state exactly when theirs are equal. Reads the whole store.")
    var digest = false

    func run() throws {
        var summary = try connection.call(QueryCall.summary.call)
        let stateDigest = digest ? try connection.call(QueryCall.stateDigest.call).string("digest") ?? "" : nil
        if connection.json {
            if let stateDigest { summary.members.append((key: "digest", value: .string(stateDigest))) }
            return printJSON(.object(summary))
        }
        // Names that messages use but none describes: often a guessed id
        // (`city-council` for `city-strike-council`), counted apart.
        var unresolved = 0
        try connection.page(.unresolved(kind: nil, page: PageParameters()), key: "unresolved", limit: Status.unresolvedShown + 1) { unresolved += $0.count }
        let shown = unresolved > Status.unresolvedShown ? "more than \(Status.unresolvedShown)" : "\(unresolved)"
        Console.out(Status.describe(summary) + "\nunresolved  \(shown) named but not described (see `strikectl unresolved`)"
            + (stateDigest.map { "\ndigest      \($0)" } ?? ""))
    }

    static let unresolvedShown = 10_000

    static func describe(_ s: JSONObject) -> String {
        let d = s.object("delegates") ?? JSONObject()
        let mandates = s.object("mandates") ?? JSONObject()
        let m = s.object("messages") ?? JSONObject()
        let c = s.object("demands") ?? JSONObject()
        var table = Table("", "")
        table.add("workplaces", "\(s.cell("workplaces")) described (by a workplace.reported)")
        // `striking` counts every workplace a strike.reported is about,
        // described or only named: say so, or the two numbers look wrong.
        table.add("striking", "\(s.cell("striking")) (\(s.cell("participants")) participants), whether described or only named")
        // Two rows: one would be cut at the table's 60 characters.
        table.add("delegates", "\(d.cell("active")) active, \(d.cell("recalled")) recalled, \(d.cell("resigned")) resigned")
        table.add("", "\(d.cell("detained")) detained, \(d.cell("missing")) missing, \(d.cell("exiled")) exiled")
        table.add("mandates", "\(mandates.cell("active")) active, \(mandates.cell("recalled")) recalled, \(mandates.cell("resigned")) resigned")
        table.add("demands", "\(c.cell("economic")) economic, \(c.cell("democratic")) democratic")
        table.add("messages", "\(m.cell("applied")) applied, \(m.cell("duplicates")) duplicates, \(m.cell("rejected")) rejected")
        return table.render(width: Table.terminalWidth).split(separator: "\n").dropFirst().joined(separator: "\n")
    }
}

struct Workplaces: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List workplaces that strike or workplace reports are about.",
        discussion: "Workplaces that messages only name are listed by `strikectl unresolved`.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var page: LimitOption
    @Option(help: "Only workplaces in this region, as reported.") var region: String?
    @Option(help: "Only workplaces in this town, as reported.") var town: String?
    @Flag(help: "Only workplaces on strike, partial strike, go-slow or work-to-rule.") var striking = false
    @Option(help: ArgumentHelp("Only workplaces with this strike status.", valueName: "status"),
            completion: .list(StrikeStatus.allCases.map(\.rawValue)))
    var status: String?

    func validate() throws {
        if striking && status != nil { throw ValidationError("use either --striking or --status, not both") }
        if let status, StrikeStatus(rawValue: status) == nil {
            throw ValidationError("--status must be one of \(StrikeStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let query = QueryCall.listWorkplaces(region: region, town: town, strike: striking ? "striking" : status, page: PageParameters())
        var table = Table("ID", "NAME", "TOWN", "REGION", "STATUS", "PARTICIPANTS", "LAST REPORT")
        let now = Clock.now()
        try connection.page(query, key: "workplaces", limit: page.limit) { items in
            for w in items {
                if connection.json { printJSON(.object(w)); continue }
                table.add(w.cell("id"), w.cell("name"), w.cell("town"), w.cell("region"), w.cell("status"), w.cell("participants"),
                          Age.describe(w.string("reported_at"), now: now))
            }
        }
        if !connection.json { table.print(empty: "no workplaces") }
    }
}

struct WorkplaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workplace", abstract: "Show one workplace with its delegates, demands and actions.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The workplace's id.") var id: String

    func validate() throws {
        if !Slug.isValid(id) { throw ValidationError(SlugAdvice.message("the workplace", id)) }
    }

    func run() throws {
        let reply = try connection.call(QueryCall.getWorkplace(id: id).call)
        if connection.json { return printJSON(.object(reply)) }
        let w = reply.object("workplace") ?? JSONObject()
        var facts = Table("", "")
        for key in ["id", "name", "kind", "sector", "town", "region", "ownership", "headcount", "status", "participants"] {
            facts.add(key, w.cell(key))
        }
        facts.add("last report", Age.describe(w.string("reported_at"), now: Clock.now()))
        if !w.bool("described") { facts.add("note", "no workplace.reported describes it yet") }
        var out = facts.render(width: Table.terminalWidth).split(separator: "\n").dropFirst().joined(separator: "\n")
        var delegates = Table("DELEGATE", "COUNCIL", "STATUS", "SAFETY")
        for d in reply.array("delegates").compactMap(\.objectValue) {
            delegates.add(d.cell("id"), d.cell("council"), d.cell("status"), d.cell("safety"))
        }
        var demands = Table("DEMAND", "ADOPTED", "OUTCOME", "TEXT")
        for d in reply.array("demands").compactMap(\.objectValue) {
            demands.add(d.cell("demand"), d.cell("adopted"), d.cell("outcome"), d.cell("text"))
        }
        var actions = Table("ACTION", "KIND", "STARTS", "PARTICIPANTS")
        for a in reply.array("actions").compactMap(\.objectValue) {
            actions.add(a.cell("action"), a.cell("kind"), a.cell("starts_at"), a.cell("participants"))
        }
        for table in [delegates, demands, actions, reportTable(reply.array("reports"))] where !table.rows.isEmpty {
            out += "\n\n" + table.render(width: Table.terminalWidth)
        }
        if reply.bool("truncated") {
            out += "\n\n(lists cut at 100: see `strikectl delegates --workplace \(id)`, `demands --workplace \(id)`, `actions --workplace \(id)`)"
        }
        Console.out(out)
    }
}

struct Delegates: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List elected delegates.",
        discussion: "Delegates known only from status messages are listed by `strikectl unresolved`.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var page: LimitOption
    @Option(help: "Only delegates with a mandate this workplace gave.") var workplace: String?
    @Option(help: "Only delegates with a mandate in this council.") var council: String?
    @Option(help: "Only delegates counted with this status.", completion: .list(DelegateStatus.allCases.map(\.rawValue)))
    var status: String?
    @Option(help: "Only delegates whose latest safety report says this.", completion: .list(SafetyStatus.allCases.map(\.rawValue)))
    var safety: String?
    @Option(help: "Only delegates with a mandate in this status (with --workplace and --council: that same mandate).",
            completion: .list(MandateStatus.allCases.map(\.rawValue)))
    var mandate: String?

    func validate() throws {
        if let status, DelegateStatus(rawValue: status) == nil {
            throw ValidationError("--status must be one of \(DelegateStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let safety, SafetyStatus(rawValue: safety) == nil {
            throw ValidationError("--safety must be one of \(SafetyStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let mandate, MandateStatus(rawValue: mandate) == nil {
            throw ValidationError("--mandate must be one of \(MandateStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try checkIDs(["--workplace": workplace, "--council": council])
    }

    func run() throws {
        let query = QueryCall.listDelegates(
            workplace: workplace, council: council, status: status.flatMap(DelegateStatus.init(rawValue:)),
            safety: safety.flatMap(SafetyStatus.init(rawValue:)), mandate: mandate.flatMap(MandateStatus.init(rawValue:)),
            page: PageParameters())
        var table = Table("ID", "BY", "COUNCIL", "MANDATE", "STATUS", "SAFETY", "LAST REPORT")
        let now = Clock.now()
        try connection.page(query, key: "delegates", limit: page.limit) { items in
            for d in items {
                if connection.json { printJSON(.object(d)); continue }
                let by = d["workplace"] != nil ? "workplace:\(d.cell("workplace"))" : "council:\(d.cell("from_council"))"
                table.add(d.cell("id"), by, d.cell("council"), d.cell("mandate"), d.cell("status"), d.cell("safety"),
                          Age.describe(d.string("reported_at"), now: now))
            }
        }
        if !connection.json { table.print(empty: "no delegates") }
    }
}

struct Councils: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List councils.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var page: LimitOption

    func run() throws {
        var table = Table("ID", "NAME", "LEVEL", "AREA", "ACTIVE DELEGATES")
        try connection.page(.listCouncils(page: PageParameters()), key: "councils", limit: page.limit) { items in
            for c in items {
                if connection.json { printJSON(.object(c)); continue }
                table.add(c.cell("id"), c.cell("name"), c.cell("level"), c.cell("area"), c.cell("active_delegates"))
            }
        }
        if !connection.json { table.print(empty: "no councils") }
    }
}

struct Demands: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List demands, or with an ID, every workplace that supports that demand.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var page: LimitOption
    @Option(help: "Only demands of this category.", completion: .list(DemandCategory.allCases.map(\.rawValue)))
    var category: String?
    @Option(help: "Only demands this workplace adopted or reported an outcome for.") var workplace: String?
    @Argument(help: "A demand's id: list its workplaces instead.") var id: String?

    func validate() throws {
        if let category, DemandCategory(rawValue: category) == nil {
            throw ValidationError("--category must be economic or democratic")
        }
        try checkIDs(["--workplace": workplace, "the demand": id])
        if id != nil && (category != nil || workplace != nil) {
            throw ValidationError("with a demand's id, --category and --workplace do not apply")
        }
    }

    func run() throws {
        if let id {
            var table = Table("WORKPLACE", "ADOPTED", "FOR", "AGAINST", "ABSTAIN", "OUTCOME")
            try connection.page(.listDemandWorkplaces(demand: id, page: PageParameters()), key: "workplaces", limit: page.limit) { items in
                for w in items {
                    if connection.json { printJSON(.object(w)); continue }
                    let votes = w.object("votes") ?? JSONObject()
                    table.add(w.cell("workplace"), w.cell("adopted"), votes.cell("for"), votes.cell("against"), votes.cell("abstain"), w.cell("outcome"))
                }
            }
            if !connection.json { table.print(empty: "no workplace supports \(id) yet") }
            return
        }
        let query = QueryCall.listDemands(
            category: category.flatMap(DemandCategory.init(rawValue:)), workplace: workplace, page: PageParameters())
        var table = Table("ID", "CATEGORY", "SUPPORTERS", "WON", "NEGOTIATING", "TEXT")
        try connection.page(query, key: "demands", limit: page.limit) { items in
            for d in items {
                if connection.json { printJSON(.object(d)); continue }
                let outcomes = d.object("outcomes") ?? JSONObject()
                table.add(d.cell("id"), d.cell("category"), d.cell("supporters"), outcomes.cell("won"), outcomes.cell("negotiating"), d.cell("text"))
            }
        }
        if !connection.json { table.print(empty: "no demands") }
    }
}

struct Actions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List actions, or with an ID, every workplace that joined that action.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var page: LimitOption
    @Option(help: "Only actions this workplace joined.") var workplace: String?
    @Argument(help: "An action's id: list its workplaces instead.") var id: String?

    func validate() throws {
        try checkIDs(["--workplace": workplace, "the action": id])
        if id != nil && workplace != nil { throw ValidationError("with an action's id, --workplace does not apply") }
    }

    func run() throws {
        if let id {
            var table = Table("WORKPLACE", "PARTICIPANTS")
            try connection.page(.listActionWorkplaces(action: id, page: PageParameters()), key: "workplaces", limit: page.limit) { items in
                for w in items {
                    if connection.json { printJSON(.object(w)); continue }
                    table.add(w.cell("workplace"), w.cell("participants"))
                }
            }
            if !connection.json { table.print(empty: "no workplace joined \(id) yet") }
            return
        }
        var table = Table("ID", "KIND", "STARTS", "HOURS", "JOINED", "PARTICIPANTS", "DEMANDS")
        try connection.page(.listActions(workplace: workplace, page: PageParameters()), key: "actions", limit: page.limit) { items in
            for a in items {
                if connection.json { printJSON(.object(a)); continue }
                let demands = a.array("demands").compactMap { value -> String? in
                    if case .string(let text) = value { return text }
                    return nil
                }
                table.add(a.cell("id"), a.cell("kind"), a.cell("starts_at"), a.cell("hours"), a.cell("joined"), a.cell("participants"),
                          demands.isEmpty ? "-" : demands.joined(separator: ","))
            }
        }
        if !connection.json { table.print(empty: "no actions") }
    }
}

struct Rejected: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List rejected messages, oldest first.",
        discussion: "Reason codes are explained in docs/messages.md. Quarantined spool files are in SPOOL/quarantine, each beside its reason, .NAME.reason. ID names a version for `strikectl forget`.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var page: LimitOption

    func run() throws {
        var table = Table("ID", "FIRST SEEN", "ORIGIN", "SEQ", "CODE", "SOURCE", "DETAIL")
        try connection.page(.listRejected(page: PageParameters()), key: "rejected", limit: page.limit) { items in
            for r in items {
                if connection.json { printJSON(.object(r)); continue }
                table.add(String(r.cell("hash").prefix(12)), r.cell("first_seen"), r.cell("origin"), r.cell("seq"), r.cell("code"), r.cell("source"), r.cell("detail"))
            }
        }
        if !connection.json { table.print(empty: "nothing rejected") }
    }
}

struct Gaps: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the messages not yet received, per origin, as ranges of seq.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var page: LimitOption
    @Option(help: "Only this origin's gaps.") var origin: String?

    func validate() throws { try checkIDs(["--origin": origin]) }

    func run() throws {
        var table = Table("ORIGIN", "FIRST", "LAST", "MISSING")
        try connection.page(.gaps(origin: origin, page: PageParameters()), key: "gaps", limit: page.limit) { items in
            for g in items {
                if connection.json { printJSON(.object(g)); continue }
                table.add(g.cell("origin"), g.cell("first"), g.cell("last"), g.cell("missing"))
            }
        }
        if !connection.json { table.print(empty: "no gaps: every origin's messages arrived from 1 to its highest seq") }
    }
}

struct PeersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers",
        abstract: "List the federation peers: last sent, last heard, waiting to be sent, what each lacks.",
        discussion: "LACKS counts the seqs this node holds that the peer's last report did not list (- when it never reported); CANNOT those it said it cannot supply.")

    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let reply = try connection.call(QueryCall.peers.call)
        guard case .array(let peers)? = reply["peers"] else { return }
        var table = Table("PEER", "LAST SENT", "LAST HEARD", "WAITING", "SENT", "RESENT", "LACKS", "CANNOT")
        for case .object(let peer) in peers {
            if connection.json { printJSON(.object(peer)); continue }
            func count(_ key: String) -> String {
                guard case .array(let runs)? = peer[key] else { return "-" }
                var total: Int64 = 0
                for case .object(let run) in runs {
                    if case .number(let first)? = run["first"], case .number(let last)? = run["last"], let a = first.int64, let b = last.int64 {
                        total = total.addingReportingOverflow(b.subtractingReportingOverflow(a).partialValue &+ 1).partialValue
                    }
                }
                return runs.count >= 100 ? "\(total)+" : "\(total)"
            }
            table.add(peer.cell("name"), peer.cell("last_sent"), peer.cell("last_heard"), peer.cell("waiting"),
                      peer.cell("sent"), peer.cell("resent"), count("lacks"), count("cannot"))
        }
        if !connection.json { table.print(empty: "no peers (strikecd.yaml has no peers, or the daemon has not started with them)") }
    }
}

struct UnresolvedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unresolved", abstract: "List what messages name but none describes yet.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var page: LimitOption
    @Option(help: "Only this kind.", completion: .list(EntityKind.allCases.map(\.rawValue))) var kind: String?

    func validate() throws {
        if let kind, EntityKind(rawValue: kind) == nil {
            throw ValidationError("--kind must be one of \(EntityKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        var table = Table("KIND", "ID", "MESSAGES")
        try connection.page(.unresolved(kind: kind.flatMap(EntityKind.init(rawValue:)), page: PageParameters()), key: "unresolved", limit: page.limit) { items in
            for u in items {
                if connection.json { printJSON(.object(u)); continue }
                table.add(u.cell("kind"), u.cell("id"), u.cell("messages"))
            }
        }
        if !connection.json { table.print(empty: "nothing unresolved") }
    }
}

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the state, then each change as strikecd commits it, until interrupted.")

    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let client = try connection.connect(timeoutSeconds: nil)
        do {
            try client.stream(QueryCall.watch.call) { reply in
                if connection.json {
                    printJSON(.object(reply))
                } else if let summary = reply.object("summary") {
                    Console.out(Status.describe(summary))
                } else if let change = reply.object("change") {
                    Console.out(Watch.describe(change))
                }
                return true
            }
        } catch {
            throw Failure.from(error, interface: Interface.query)
        }
    }

    static func describe(_ c: JSONObject) -> String {
        var parts = [c.cell("outcome")]
        if let origin = c.string("origin") { parts.append("\(origin) #\(c.cell("seq"))") }
        if let type = c.string("type") { parts.append(type) }
        if let subject = c.string("subject") { parts.append(subject) }
        if let code = c.string("code") { parts.append("(\(code))") }
        return Table.clean(parts.joined(separator: " "), maximum: 200)
    }
}

/// Checks that options meant to hold ids do.
func checkIDs(_ values: KeyValuePairs<String, String?>) throws {
    for (name, value) in values {
        if let value, !Slug.isValid(value) {
            throw ValidationError(SlugAdvice.message(name, value))
        }
    }
}

/// Reports from other origins (GetWorkplace's and GetCouncil's `reports`):
/// messages whose origin does not speak for the body, which moved nothing.
func reportTable(_ reports: [JSONValue]) -> Table {
    var table = Table("REPORT FROM ANOTHER ORIGIN (MOVED NOTHING)", "TYPE", "ABOUT", "SENT")
    for r in reports.compactMap(\.objectValue) {
        let message = r.object("message") ?? JSONObject()
        table.add("\(message.cell("origin")) #\(message.cell("seq"))", r.cell("type"), r.cell("subject"), message.cell("at"))
    }
    return table
}
