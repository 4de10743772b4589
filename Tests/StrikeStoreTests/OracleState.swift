import GRDB
import StrikeCore
@testable import StrikeStore

// The contract's whole state computed the naive way, to hold the store's
// incremental fold against: the applied messages replayed in key order, each
// field simply overwritten by every message that sets it (no order keys
// compared, no subject rows read back, no conflict re-fold). Every column of
// every workplace, council, delegate, demand, support, outcome, action and
// participation row, and which messages are applied and which (origin, seq)
// arrived.

/// The tables the oracle computes, each with its columns in schema order and
/// the order its rows are compared in.
let oracleTableColumns: [(table: String, columns: [String], key: [String])] = [
    ("workplace", ["id", "reported_k", "name", "name_k", "kind", "kind_k", "sector", "sector_k", "town", "town_k",
                   "region", "region_k", "ownership", "ownership_k", "headcount", "headcount_k", "status", "participants",
                   "strike_k"], ["id"]),
    ("council", ["id", "formed_k", "name", "name_k", "level", "level_k", "area", "area_k"], ["id"]),
    ("delegate", ["id", "status", "safety", "safety_until", "safety_k", "resigned_k", "recalls"], ["id"]),
    ("mandate", ["delegate", "council", "body_kind", "body", "election_k", "status", "status_k", "others"], ["delegate", "council"]),
    ("demand", ["id", "text", "category", "proposal_k"], ["id"]),
    ("support", ["demand", "workplace", "votes_for", "votes_against", "votes_abstain", "adoption_k"], ["demand", "workplace"]),
    ("outcome", ["demand", "workplace", "outcome", "outcome_k"], ["demand", "workplace"]),
    ("action", ["id", "called_k", "kind", "kind_k", "starts_at", "starts_at_k", "hours", "hours_k", "demands", "demands_k",
                "text", "text_k"], ["id"]),
    ("participation", ["action", "workplace", "joined_k", "participants", "participants_k"], ["action", "workplace"]),
    ("message", ["origin", "seq", "k", "type"], ["origin", "seq"]),
    ("arrival", ["origin", "seq"], ["origin", "seq"]),
]

/// What the contract makes of `copies` (signatures off): the applied
/// messages in key order, how many distinct identities there were, and how
/// many versions are rejected.
func oracleReplay(_ copies: [[UInt8]]) -> (applied: [Message], identities: Int, rejected: Int, arrived: Set<Envelope>) {
    var identities = Set<[UInt8]>()
    var versions: [Envelope: Set<[UInt8]>] = [:]
    var messages: [[UInt8]: Message] = [:]
    var rejected = 0
    var arrived = Set<Envelope>()
    for bytes in copies {
        let value = try? JSONReader.read(bytes)
        // `sig` is not part of a message's identity (it is off here: no copy is refused for it).
        let identity = value.map { [UInt8(ascii: "j")] + ($0.objectValue.map(MessageReader.signedBytes) ?? JSONWriter.bytes($0)) }
            ?? ([UInt8(ascii: "b")] + bytes)
        guard identities.insert(identity).inserted else { continue }
        let read = reading(bytes)
        if let envelope = read.envelope { arrived.insert(envelope) }
        if let message = read.message {
            versions[Envelope(origin: message.origin, seq: message.seq), default: []].insert(message.content)
            messages[message.content] = message
        } else {
            rejected += 1
        }
    }
    var applied: [Message] = []
    for (_, set) in versions {
        if set.count == 1 { applied.append(messages[set.first!]!) } else { rejected += set.count }
    }
    applied.sort { a, b in
        if a.sentAt != b.sentAt { return a.sentAt < b.sentAt }
        if a.origin != b.origin { return a.origin < b.origin }
        return a.seq < b.seq
    }
    return (applied, identities.count, rejected, arrived)
}

/// Every oracle table's rows, in the order of `oracleTableColumns`' keys.
/// `admits` says which applied messages move the state (scopes); the others
/// are reports from other origins, folded into nothing.
func oracleTables(_ copies: [[UInt8]], admits: (Message) -> Bool = { _ in true }) -> [String: [[DatabaseValue]]] {
    let replay = oracleReplay(copies)
    // table → row key → column → value; a column never set is NULL.
    var rows: [String: [[String]: [String: DatabaseValue]]] = [:]
    var delegates: [Slug: OracleDelegate] = [:]
    func set(_ table: String, _ key: [Slug], _ values: [(String, (any DatabaseValueConvertible)?)]) {
        let rowKey = key.map(\.rawValue)
        for (column, value) in values {
            guard let value else { continue }  // absent: the field keeps what it had
            rows[table, default: [:]][rowKey, default: [:]][column] = value.databaseValue
        }
    }
    for message in replay.applied {
        let k = message.key.rawValue
        // Every applied message, reports from other origins too.
        rows["message", default: [:]][[message.origin.rawValue, String(message.seq)]] = [
            "origin": message.origin.rawValue.databaseValue, "seq": message.seq.databaseValue,
            "k": k.databaseValue, "type": message.type.rawValue.databaseValue,
        ]
        guard admits(message) else { continue }
        switch message.body {
        case .workplaceReported(let r):
            set("workplace", [r.workplace], [
                ("id", r.workplace.rawValue), ("reported_k", k),
                ("name", r.name), ("name_k", r.name.map { _ in k }),
                ("kind", r.kind?.rawValue), ("kind_k", r.kind.map { _ in k }),
                ("sector", r.sector), ("sector_k", r.sector.map { _ in k }),
                ("town", r.town), ("town_k", r.town.map { _ in k }),
                ("region", r.region), ("region_k", r.region.map { _ in k }),
                ("ownership", r.ownership?.rawValue), ("ownership_k", r.ownership.map { _ in k }),
                ("headcount", r.headcount), ("headcount_k", r.headcount.map { _ in k }),
            ])
        case .strikeReported(let workplace, let status, let participants):
            // Status and participants go together: an absent count is NULL.
            set("workplace", [workplace], [("id", workplace.rawValue), ("status", status.rawValue), ("strike_k", k)])
            rows["workplace"]![[workplace.rawValue]]!["participants"] = participants?.databaseValue ?? .null
        case .councilFormed(let council, let name, let level, let area):
            set("council", [council], [
                ("id", council.rawValue), ("formed_k", k), ("name", name), ("name_k", name.map { _ in k }),
                ("level", level.rawValue), ("level_k", k), ("area", area), ("area_k", area.map { _ in k }),
            ])
        case .delegateElected(let delegate, let by, let council, _, _):
            // The latest election gives the mandate; each other body's latest is kept beside it.
            var d = delegates[delegate] ?? OracleDelegate()
            d.elections[council, default: [:]][by] = k
            d.mandates[council] = (by, k, "active", k)
            delegates[delegate] = d
        case .delegateRecalled(let delegate, let by, _):
            // Recalls the mandates that body gave; another body's recall changes none.
            var d = delegates[delegate] ?? OracleDelegate()
            d.recalls[by] = k
            for (council, m) in d.mandates where m.giver == by { d.mandates[council] = (m.giver, m.electionK, "recalled", k) }
            delegates[delegate] = d
        case .delegateStatus(let delegate, let event, _):
            var d = delegates[delegate] ?? OracleDelegate()
            switch event {
            case .active, .released: d.safety = ("free", nil, k)
            case .detained: d.safety = ("detained", nil, k)
            case .missing: d.safety = ("missing", nil, k)
            case .resigned:
                // Ends every mandate held then.
                d.resignedK = k
                for (council, m) in d.mandates { d.mandates[council] = (m.giver, m.electionK, "resigned", k) }
            }
            delegates[delegate] = d
        case .delegateSafety(let delegate, let status, let until, _):
            var d = delegates[delegate] ?? OracleDelegate()
            d.safety = (status.rawValue, until?.text, k)
            delegates[delegate] = d
        case .demandProposed(let demand, let text, let category, _):
            set("demand", [demand], [("id", demand.rawValue), ("text", text), ("category", category.rawValue), ("proposal_k", k)])
        case .demandAdopted(let demand, let workplace, let votes):
            set("support", [demand, workplace], [("demand", demand.rawValue), ("workplace", workplace.rawValue), ("adoption_k", k)])
            // The latest adoption's votes, none included.
            for (column, value) in [("votes_for", votes?.yes), ("votes_against", votes?.no), ("votes_abstain", votes?.abstain)] {
                rows["support"]![[demand.rawValue, workplace.rawValue]]![column] = value?.databaseValue ?? .null
            }
        case .demandOutcome(let demand, let workplace, let outcome):
            set("outcome", [demand, workplace], [
                ("demand", demand.rawValue), ("workplace", workplace.rawValue), ("outcome", outcome.rawValue), ("outcome_k", k),
            ])
        case .actionCalled(let call):
            let demands = call.demands.map { "[" + $0.map { "\"\($0.rawValue)\"" }.joined(separator: ",") + "]" }
            set("action", [call.action], [
                ("id", call.action.rawValue), ("called_k", k), ("kind", call.kind.rawValue), ("kind_k", k),
                ("starts_at", call.startsAt.text), ("starts_at_k", k), ("hours", call.hours), ("hours_k", call.hours.map { _ in k }),
                ("demands", demands), ("demands_k", demands.map { _ in k }), ("text", call.text), ("text_k", call.text.map { _ in k }),
            ])
        case .actionJoined(let action, let workplace, let participants):
            set("participation", [action, workplace], [
                ("action", action.rawValue), ("workplace", workplace.rawValue), ("joined_k", k),
                ("participants", participants), ("participants_k", participants.map { _ in k }),
            ])
        }
    }
    for (id, d) in delegates {
        set("delegate", [id], [
            ("id", id.rawValue), ("status", d.status), ("safety", d.safety?.status), ("safety_until", d.safety?.until),
            ("safety_k", d.safety?.k), ("resigned_k", d.resignedK), ("recalls", oracleLines(d.recalls)),
        ])
        for (council, m) in d.mandates {
            var others = d.elections[council]!
            others[m.giver] = nil
            set("mandate", [id, council], [
                ("delegate", id.rawValue), ("council", council.rawValue), ("body_kind", m.giver.kind), ("body", m.giver.id.rawValue),
                ("election_k", m.electionK), ("status", m.status), ("status_k", m.statusK), ("others", oracleLines(others)),
            ])
        }
    }
    for envelope in replay.arrived {
        rows["arrival", default: [:]][[envelope.origin.rawValue, String(envelope.seq)]] = [
            "origin": envelope.origin.rawValue.databaseValue, "seq": envelope.seq.databaseValue,
        ]
    }
    var tables: [String: [[DatabaseValue]]] = [:]
    for (table, columns, _) in oracleTableColumns {
        let byKey = rows[table] ?? [:]
        tables[table] = byKey.values.map { row in columns.map { row[$0] ?? .null } }
            .sorted { a, b in oracleOrder(table, a, b) }
    }
    return tables
}

/// Rows in the order of their key columns, as SQLite orders them (text by
/// bytes, integers by value).
func oracleOrder(_ table: String, _ a: [DatabaseValue], _ b: [DatabaseValue]) -> Bool {
    let entry = oracleTableColumns.first { $0.table == table }!
    for column in entry.key {
        let index = entry.columns.firstIndex(of: column)!
        switch (a[index].storage, b[index].storage) {
        case (.string(let x), .string(let y)) where x != y: return x.utf8.lexicographicallyPrecedes(y.utf8)
        case (.int64(let x), .int64(let y)) where x != y: return x < y
        default: continue
        }
    }
    return false
}

/// The same tables as the store holds them.
func storeTables(_ store: Store) throws -> [String: [[DatabaseValue]]] {
    try store.pool.read { db in
        var tables: [String: [[DatabaseValue]]] = [:]
        for (table, columns, key) in oracleTableColumns {
            let rows = try Row.fetchAll(db, sql: "SELECT \(columns.joined(separator: ", ")) FROM \(table) ORDER BY \(key.joined(separator: ", "))")
            tables[table] = rows.map { Array($0.databaseValues) }
        }
        return tables
    }
}

/// Where the store and the oracle differ, table by table (empty when they agree).
func differences(_ store: [String: [[DatabaseValue]]], _ oracle: [String: [[DatabaseValue]]]) -> [String] {
    oracleTableColumns.compactMap { table, _, _ in
        let (s, o) = (store[table] ?? [], oracle[table] ?? [])
        guard s != o else { return nil }
        let extra = s.filter { !o.contains($0) }.prefix(3), missing = o.filter { !s.contains($0) }.prefix(3)
        return "\(table): \(s.count) rows in the store, \(o.count) in the oracle; only in the store: \(Array(extra)); only in the oracle: \(Array(missing))"
    }
}

/// A delegate replayed in key order, each event overwriting what it sets.
struct OracleDelegate {
    /// By council: each body's latest election there.
    var elections: [Slug: [ElectingBody: String]] = [:]
    /// By council: the latest election's body and key, and the mandate's status and its key.
    var mandates: [Slug: (giver: ElectingBody, electionK: String, status: String, statusK: String)] = [:]
    var recalls: [ElectingBody: String] = [:]
    var resignedK: String?
    var safety: (status: String, until: String?, k: String)?

    /// How the Summary counts it: held, missing or exiled first, then any
    /// active mandate, then the latest mandate event's status.
    var status: String? {
        guard !mandates.isEmpty else { return nil }
        switch safety?.status {
        case "detained", "arrested", "charged", "sentenced": return "detained"
        case "missing": return "missing"
        case "exiled": return "exiled"
        default: break
        }
        if mandates.values.contains(where: { $0.status == "active" }) { return "active" }
        let latest = mandates.values.max { $0.statusK.utf8.lexicographicallyPrecedes($1.statusK.utf8) }!
        return latest.status
    }
}

/// `kind id key` lines, by body; nil for none.
func oracleLines(_ entries: [ElectingBody: String]) -> String? {
    entries.isEmpty ? nil : entries.sorted { $0.key < $1.key }.map { "\($0.key.kind) \($0.key.id.rawValue) \($0.value)" }.joined(separator: "\n")
}
