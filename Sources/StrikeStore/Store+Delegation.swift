import GRDB
import StrikeCore

// The delegation's read side: one delegate, one council, the irregular
// delegations. Each list is cut at a fixed length (the reply's `truncated`).
extension Store {
    static let mandateColumns = "m.delegate, m.council, m.body_kind, m.body, m.status, m.election_k, m.status_k, m.others"

    static func mandate(_ row: Row) throws -> MandateRecord {
        guard let id = Slug(row[3] as String), let body = ElectingBody(kind: row[2], id: id),
              let elected = MessageRef(key: OrderKey(rawValue: row[5])), let since = MessageRef(key: OrderKey(rawValue: row[6])) else {
            throw StoreError.corrupt("a mandate of \(row[0] as String) does not read back")
        }
        let others = try SubjectRows.decodeEntries(row[7]).map(\.0)
        return MandateRecord(
            delegate: row[0], council: row[1], by: body, status: try requiredEnum(row[4], MandateStatus.self),
            elected: elected, since: since, otherBodies: others)
    }

    static func mandates(_ db: Database, _ sql: String, _ arguments: StatementArguments, limit: Int) throws -> [MandateRecord] {
        try Row.fetchAll(db, sql: sql + " LIMIT \(limit)", arguments: arguments).map(mandate)
    }

    /// One delegate with every mandate and its safety; nil when no applied
    /// message names it.
    public static func getDelegate(_ id: String) -> StoreQuery<DelegateDetail?> {
        StoreQuery { db in
            let cap = DelegateDetail.listLimit
            guard let row = try Row.fetchOne(db, sql: "SELECT status, safety, safety_until, safety_k FROM delegate WHERE id = ?", arguments: [id]) else {
                return nil
            }
            var safety: SafetyRecord?
            if let status: String = row[1], let key: String = row[3], let reported = MessageRef(key: OrderKey(rawValue: key)) {
                safety = SafetyRecord(status: try requiredEnum(status, SafetyStatus.self), until: row[2], reported: reported)
            }
            let mandates = try Self.mandates(db, "SELECT \(mandateColumns) FROM mandate m WHERE m.delegate = ? ORDER BY m.council", [id], limit: cap + 1)
            let subject = "delegate/\(id)"  // its Subject key
            let latest = try String.fetchOne(db, sql: "SELECT max(k) FROM message WHERE subject = ? AND report = 0", arguments: [subject])
            return DelegateDetail(
                id: id, status: try optionalEnum(row[0], DelegateStatus.self), safety: safety,
                mandates: Array(mandates.prefix(cap)), truncated: mandates.count > cap,
                reportedAt: instant(latest), note: try statusNote(db, subject: subject))
        }
    }

    /// The note of the delegate's greatest-key status or safety report, read
    /// from that message's stored body: notes have no column, and are shown
    /// only to the service's users, never logged.
    static func statusNote(_ db: Database, subject: String) throws -> String? {
        guard let body = try String.fetchOne(db, sql: """
                  SELECT v.body FROM message AS m JOIN version AS v ON v.id = m.version
                  WHERE m.subject = ? AND m.type IN ('delegate.status', 'delegate.safety') ORDER BY m.k DESC LIMIT 1
                  """, arguments: [subject]),
              case .object(let message)? = try? JSONReader.read(Array(body.utf8)),
              case .object(let data)? = message["data"], case .string(let note)? = data["note"] else {
            return nil
        }
        return note
    }

    /// One council: its facts, its mandates, the other councils its delegates
    /// sit in, and the mandates it gave; nil when no applied message names it.
    public static func getCouncil(_ id: String) -> StoreQuery<CouncilDetail?> {
        StoreQuery { db in
            let cap = CouncilDetail.listLimit
            let row = try Row.fetchOne(db, sql: "SELECT formed_k, name, level, area FROM council WHERE id = ?", arguments: [id])
            let reports = try Self.reports(db, body: "council:\(id)", limit: cap + 1)
            if row == nil, reports.isEmpty, try !exists(db, table: "council", kind: .council, id: id) { return nil }
            let mandates = try Self.mandates(db, "SELECT \(mandateColumns) FROM mandate m WHERE m.council = ? ORDER BY m.delegate", [id], limit: cap + 1)
            let seats = try Self.mandates(db, """
                SELECT \(mandateColumns) FROM mandate s JOIN mandate m ON m.delegate = s.delegate AND m.council <> s.council
                WHERE s.council = ? ORDER BY m.delegate, m.council
                """, [id], limit: cap + 1)
            let elected = try Self.mandates(db, """
                SELECT \(mandateColumns) FROM mandate m WHERE m.body_kind = 'council' AND m.body = ? ORDER BY m.delegate, m.council
                """, [id], limit: cap + 1)
            return CouncilDetail(
                id: id, described: (row?[0] as String?) != nil, name: row?[1], level: try optionalEnum(row?[2], CouncilLevel.self),
                area: row?[3], mandates: Array(mandates.prefix(cap)), seats: Array(seats.prefix(cap)),
                elected: Array(elected.prefix(cap)), reports: Array(reports.prefix(cap)),
                truncated: mandates.count > cap || seats.count > cap || elected.count > cap || reports.count > cap)
        }
    }

    /// The reports from other origins about `body` (`workplace:SLUG`,
    /// `council:SLUG`), latest first, at most `limit`.
    static func reports(_ db: Database, body: String, limit: Int) throws -> [ReportRecord] {
        // Through SQLite's C API, as GetWorkplace's other lists: it is asked
        // on every GetWorkplace, and nearly always finds nothing.
        let statement = try DirectStatement(cached: db, sql: """
            SELECT k, origin, seq, type, subject FROM report WHERE body = ? ORDER BY k DESC LIMIT ?
            """)
        defer { statement.reset() }
        statement.bind(1, body)
        statement.bind(2, limit)
        var reports: [ReportRecord] = []
        while try statement.step() {
            let origin = statement.string(1) ?? ""
            let seq = statement.int64(2)
            let message = MessageRef(key: OrderKey(rawValue: statement.string(0) ?? "")) ?? MessageRef(at: "", origin: origin, seq: seq)
            reports.append(ReportRecord(message: message, type: statement.string(3) ?? "", subject: statement.string(4) ?? "", body: body))
        }
        return reports
    }

    /// Every irregular delegation, at most `limit`: elections from a council
    /// to one of the same or a lower level (as the councils' levels stand),
    /// a delegate elected to one council by two or more bodies, a recall by a
    /// body that never elected the delegate. In that order, then by delegate.
    public static func irregular(limit: Int = PageRequest.maximumLimit) -> StoreQuery<(items: [IrregularRecord], truncated: Bool)> {
        StoreQuery { db in
            var items: [IrregularRecord] = []
            // Level: every election from a council (the giver's or another's).
            let fromCouncils = try Row.fetchAll(db, sql: """
                SELECT \(mandateColumns) FROM mandate m
                JOIN council c ON c.id = m.council AND c.level IS NOT NULL
                WHERE m.body_kind = 'council' OR m.others IS NOT NULL
                ORDER BY m.delegate, m.council
                """)
            var levels: [String: CouncilLevel] = [:]
            func level(_ council: Slug) throws -> CouncilLevel? {
                if let known = levels[council.rawValue] { return known }
                let text = try String.fetchOne(db, sql: "SELECT level FROM council WHERE id = ?", arguments: [council.rawValue])
                let found = text.flatMap(CouncilLevel.init(rawValue:))
                levels[council.rawValue] = found
                return found
            }
            for row in fromCouncils {
                let mandate = try Self.mandate(row)
                guard let to = try level(Slug(mandate.council)!) else { continue }
                let elections = try SubjectRows.decodeEntries(row[7]) + [(mandate.by, OrderKey(rawValue: row[5]))]
                for (body, key) in elections.sorted(by: { $0.0 < $1.0 }) {
                    guard case .council(let from) = body, let fromLevel = try level(from), fromLevel.rank >= to.rank,
                          let ref = MessageRef(key: key) else { continue }
                    items.append(IrregularRecord(
                        kind: .level, delegate: mandate.delegate, council: mandate.council, bodies: [body], messages: [ref],
                        detail: "\(from) (\(fromLevel.rawValue)) elected \(mandate.delegate) to \(mandate.council) (\(to.rawValue)), not a council above it"))
                }
            }
            // Bodies: mandates with others.
            for row in try Row.fetchAll(db, sql: "SELECT \(mandateColumns) FROM mandate m WHERE m.others IS NOT NULL ORDER BY m.delegate, m.council") {
                let mandate = try Self.mandate(row)
                let elections = (try SubjectRows.decodeEntries(row[7]) + [(mandate.by, OrderKey(rawValue: row[5]))]).sorted { $0.1 < $1.1 }
                items.append(IrregularRecord(
                    kind: .bodies, delegate: mandate.delegate, council: mandate.council, bodies: elections.map(\.0),
                    messages: elections.compactMap { MessageRef(key: $0.1) },
                    detail: "\(elections.count) bodies elected \(mandate.delegate) to \(mandate.council); the latest election's, \(mandate.by), gave the mandate"))
            }
            // Recalls by a body that elected the delegate nowhere.
            for row in try Row.fetchAll(db, sql: "SELECT id, recalls FROM delegate WHERE recalls IS NOT NULL ORDER BY id") {
                let delegate: String = row[0]
                var electors = Set<ElectingBody>()
                for mandate in try Row.fetchAll(db, sql: "SELECT body_kind, body, others FROM mandate WHERE delegate = ?", arguments: [delegate]) {
                    if let id = Slug(mandate[1] as String), let body = ElectingBody(kind: mandate[0], id: id) { electors.insert(body) }
                    for (other, _) in try SubjectRows.decodeEntries(mandate[2]) { electors.insert(other) }
                }
                for (body, key) in try SubjectRows.decodeEntries(row[1]) where !electors.contains(body) {
                    guard let ref = MessageRef(key: key) else { continue }
                    items.append(IrregularRecord(
                        kind: .recall, delegate: delegate, council: nil, bodies: [body], messages: [ref],
                        detail: "\(body) recalled \(delegate), whom it never elected: the recall recalls nothing"))
                }
            }
            return (Array(items.prefix(limit)), items.count > limit)
        }
    }
}
