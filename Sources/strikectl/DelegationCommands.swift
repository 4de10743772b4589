import ArgumentParser
import StrikeCore
import StrikeReport
import VarlinkProtocol

// The delegation: one delegate, one council, the tree of councils, the
// irregular delegations.

extension JSONObject {
    /// A Body object as `workplace:mtz` or `council:minsk-city`.
    func bodyCell(_ key: String) -> String {
        guard let body = object(key) else { return "" }
        return "\(body.cell("kind")):\(body.cell("id"))"
    }

    /// A MessageRef object as `origin#seq at`.
    func refCell(_ key: String) -> String {
        guard let ref = object(key) else { return "" }
        return "\(ref.cell("origin"))#\(ref.cell("seq")) \(ref.cell("at"))"
    }
}

func mandateTable(_ title: String, _ mandates: [JSONValue]) -> Table {
    var table = Table(title, "COUNCIL", "BY", "MANDATE", "SINCE")
    for m in mandates.compactMap(\.objectValue) {
        let others = m.array("other_bodies").compactMap(\.objectValue).map { "\($0.cell("kind")):\($0.cell("id"))" }
        let by = m.bodyCell("by") + (others.isEmpty ? "" : " (also " + others.joined(separator: ", ") + ")")
        table.add(m.cell("delegate"), m.cell("council"), by, m.cell("status"), m.refCell("since"))
    }
    return table
}

struct DelegateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delegate",
        abstract: "Show one delegate: its mandates, with the bodies that gave them, its safety, its last report and the note of its latest status (for the service's users only).")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The delegate's pseudonym.") var id: String

    func validate() throws { try checkIDs(["the delegate": id]) }

    func run() throws {
        let reply = try connection.call(QueryCall.getDelegate(id: id).call)
        if connection.json { return printJSON(.object(reply)) }
        var facts = Table("", "")
        facts.add("id", reply.cell("id"))
        facts.add("status", reply.cell("status").isEmpty ? "not elected" : reply.cell("status"))
        if let safety = reply.object("safety") {
            let until = safety["until"] == nil ? "" : " until \(safety.cell("until"))"
            facts.add("safety", "\(safety.cell("status"))\(until)")
            // Who said so, and since when: its own row, to stay within a cell's width.
            facts.add("reported", safety.refCell("reported"))
        }
        facts.add("last report", Age.describe(reply.string("reported_at"), now: Clock.now()))
        if let note = reply.string("note") { facts.add("note", note) }
        var out = facts.render(width: Table.terminalWidth).split(separator: "\n").dropFirst().joined(separator: "\n")
        let mandates = mandateTable("DELEGATE", reply.array("mandates"))
        if !mandates.rows.isEmpty { out += "\n\n" + mandates.render(width: Table.terminalWidth) }
        if reply.bool("truncated") { out += "\n\n(mandates cut at 100)" }
        Console.out(out)
    }
}

struct CouncilCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "council",
        abstract: "Show one council: its mandates and their electing bodies, the other councils its delegates sit in, and the mandates it gave.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The council's id.") var id: String

    func validate() throws { try checkIDs(["the council": id]) }

    func run() throws {
        let reply = try connection.call(QueryCall.getCouncil(id: id).call)
        if connection.json { return printJSON(.object(reply)) }
        var facts = Table("", "")
        for key in ["id", "name", "level", "area"] { facts.add(key, reply.cell(key)) }
        if !reply.bool("described") { facts.add("note", "no council.formed describes it yet") }
        var out = facts.render(width: Table.terminalWidth).split(separator: "\n").dropFirst().joined(separator: "\n")
        for (title, key) in [("DELEGATE", "mandates"), ("ALSO SITS", "seats"), ("SENT", "elected")] {
            let table = mandateTable(title, reply.array(key))
            if !table.rows.isEmpty { out += "\n\n" + table.render(width: Table.terminalWidth) }
        }
        let reports = reportTable(reply.array("reports"))
        if !reports.rows.isEmpty { out += "\n\n" + reports.render(width: Table.terminalWidth) }
        if reply.bool("truncated") { out += "\n\n(lists cut at 100)" }
        Console.out(out)
    }
}

struct Tree: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the delegation tree: from the national council down to the workplaces, each body under the council it elected to.",
        discussion: """
            Each row is a body (a council or a workplace) and the delegate it elected to the council above it, \
            indented by depth. The roots are the national councils (or, without one, the councils of the highest \
            level). A council already shown higher up is not opened again. With --json, one nested object per root.
            """)

    @OptionGroup var connection: ConnectionOptions

    /// How deep the tree is followed: national, regional, local, neighbourhood, workplace, and spare.
    static let maximumDepth = 8

    func run() throws {
        let client = try connection.connect()
        let walk = try Tree.walk { query throws(Failure) in
            do throws(VarlinkClientError) {
                return try client.call(query.call)
            } catch {
                throw Failure.from(error, interface: Interface.query)
            }
        }
        if connection.json { return printJSON(.array(walk.trees)) }
        var table = Table("BODY", "LEVEL", "DELEGATE", "MANDATE")
        for row in walk.rows {
            table.add(String(repeating: "  ", count: row.depth) + row.body, row.isWorkplace ? "workplace" : row.level ?? "-",
                      row.delegate ?? "", row.mandate ?? "")
        }
        table.print(empty: "no councils")
    }

    /// The tree, as rows in the order printed (also `strikectl report`'s
    /// delegation section) and as one nested JSON object per root.
    static func walk(_ call: (QueryCall) throws(Failure) -> JSONObject) throws(Failure) -> (rows: [ReportInput.TreeRow], trees: [JSONValue]) {
        var councils: [JSONObject] = []
        var cursor: String?
        repeat {
            let reply = try call(.listCouncils(page: PageParameters(limit: Int(PageParameters.maximumLimit), cursor: cursor)))
            councils += reply.array("councils").compactMap(\.objectValue)
            cursor = reply.string("next")
        } while cursor != nil
        let rank = { (level: String) in CouncilLevel(rawValue: level)?.rank ?? -1 }
        let top = councils.map { rank($0.cell("level")) }.max() ?? -1
        let roots = councils.filter { rank($0.cell("level")) == top }.map { $0.cell("id") }
        var shown = Set<String>()
        var rows: [ReportInput.TreeRow] = []
        var trees: [JSONValue] = []
        for root in roots {
            trees.append(try node(council: root, depth: 0, delegate: nil, shown: &shown, rows: &rows, call))
        }
        return (rows, trees)
    }

    /// Adds the council's row and its electing bodies' rows; returns its JSON.
    private static func node(council id: String, depth: Int, delegate: JSONObject?, shown: inout Set<String>,
                             rows: inout [ReportInput.TreeRow], _ call: (QueryCall) throws(Failure) -> JSONObject) throws(Failure) -> JSONValue {
        let reply = try call(.getCouncil(id: id))
        var members: [(key: String, value: JSONValue)] = [("council", .string(id))]
        if let level = reply["level"] { members.append(("level", level)) }
        if let delegate { members += [("delegate", .string(delegate.cell("delegate"))), ("mandate", .string(delegate.cell("status")))] }
        let opened = shown.insert(id).inserted && depth < Tree.maximumDepth
        rows.append(ReportInput.TreeRow(
            depth: depth, body: id, level: reply.string("level"), isWorkplace: false,
            delegate: delegate?.cell("delegate"), mandate: delegate?.cell("status"), shownAbove: !opened))
        guard opened else {
            members.append(("shown_above", .bool(true)))
            return .object(JSONObject(members))
        }
        var bodies: [JSONValue] = []
        for mandate in reply.array("mandates").compactMap(\.objectValue) {
            guard let by = mandate.object("by") else { continue }
            if by.cell("kind") == "council" {
                bodies.append(try node(council: by.cell("id"), depth: depth + 1, delegate: mandate, shown: &shown, rows: &rows, call))
            } else {
                rows.append(ReportInput.TreeRow(
                    depth: depth + 1, body: by.cell("id"), level: nil, isWorkplace: true,
                    delegate: mandate.cell("delegate"), mandate: mandate.cell("status")))
                bodies.append(.record([
                    "workplace": .string(by.cell("id")), "delegate": .string(mandate.cell("delegate")),
                    "mandate": .string(mandate.cell("status")),
                ]))
            }
        }
        members.append(("bodies", .array(bodies)))
        if reply.bool("truncated") { members.append(("truncated", .bool(true))) }
        return .object(JSONObject(members))
    }
}

struct IrregularCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "irregular",
        abstract: "List irregular delegations, with the messages involved.",
        discussion: """
            An election from a council to a council of the same or a lower level, a delegate elected to one council \
            by two or more bodies, a recall by a body that never elected the delegate: kept and applied as far as \
            the rules say, never merged silently.
            """)

    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let reply = try connection.call(QueryCall.irregular(limit: nil).call)
        if connection.json { return printJSON(.object(reply)) }
        var table = Table("KIND", "DELEGATE", "COUNCIL", "MESSAGES", "DETAIL")
        for i in reply.array("irregular").compactMap(\.objectValue) {
            let messages = i.array("messages").compactMap(\.objectValue).map { "\($0.cell("origin"))#\($0.cell("seq"))" }
            table.add(i.cell("kind"), i.cell("delegate"), i.cell("council"), messages.joined(separator: " "), i.cell("detail"))
        }
        table.print(empty: "no irregular delegations")
        if reply.bool("truncated") { Console.note("(cut at 1000)") }
    }
}
