import Foundation
import GRDB
import StrikeCore

// The read side (docs/protocol.md): every list is paged by a cursor (the sort key
// of the last item returned) and a clamped limit, and every nested list is cut
// at a fixed length, so no answer grows with the store. Each query is a value
// (`StoreQuery`) that the caller runs on GRDB's reader pool, either without
// blocking its thread (`read`, async) or on its thread (`readNow`); readers
// never wait for the writer (WAL snapshots).
//
// Decisions written down here because the interface text only summarises them:
// - Workplaces: listed when a workplace.reported or strike.reported is about
//   them (a row exists). Workplaces only named by other messages appear in
//   unresolved(); getWorkplace still finds them, with `described == false`.
// - Delegates: listed only once elected (as the Summary counts them); a
//   delegate known only from status messages appears in unresolved().
// - Demands and actions: listed once proposed or called; before that they
//   appear in unresolved(), and their per-workplace lists are still readable.

extension Store {
    /// The Summary of docs/protocol.md, from the running tallies.
    public static var summaryQuery: StoreQuery<Summary> {
        StoreQuery { db in try Store.summary(db) }
    }

    /// Workplaces with a row (reported on), by id.
    public static func listWorkplaces(_ filter: WorkplaceQuery, page: PageRequest) throws(QueryError) -> StoreQuery<Page<WorkplaceRecord>> {
        let after = try Cursor.slug(page.cursor)
        let limit = page.clamped(to: PageRequest.maximumLimit)
        return StoreQuery { db in
            var sql = "SELECT * FROM workplace WHERE id > ?"
            var arguments: [any DatabaseValueConvertible] = [after]
            if let region = filter.region { sql += " AND region = ?"; arguments.append(region) }
            if let town = filter.town { sql += " AND town = ?"; arguments.append(town) }
            switch filter.strike {
            case nil: break
            case .striking: sql += " AND status IN ('strike', 'partial', 'go-slow', 'work-to-rule')"
            case .status(let status): sql += " AND status = ?"; arguments.append(status.rawValue)
            }
            sql += " ORDER BY id LIMIT ?"
            arguments.append(limit + 1)
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
            return try Self.page(rows, limit: limit, decode: Self.workplace) { $0.id }
        }
    }

    /// One workplace with its delegates, demands and actions; nil when no
    /// message reports on it or names it.
    public static func getWorkplace(_ id: String) throws(QueryError) -> StoreQuery<WorkplaceDetail?> {
        StoreQuery { db in
            // Prepared once per connection and read by position through
            // SQLite's C API (DirectStatement): through GRDB's rows, with
            // columns looked up by name, the decoding cost more than the
            // look-ups (docs/performance.md).
            let record: WorkplaceRecord
            let row = try DirectStatement(cached: db, sql: """
                SELECT id, reported_k IS NOT NULL, name, kind, sector, town, region, ownership, headcount, status, participants,
                       max(coalesce(reported_k, ''), coalesce(strike_k, ''))
                FROM workplace WHERE id = ?
                """)
            defer { row.reset() }
            row.bind(1, id)
            if try row.step() {
                record = WorkplaceRecord(
                    id: row.string(0) ?? id, described: row.int64(1) != 0, name: row.string(2),
                    kind: try Self.optionalEnum(row.string(3), WorkplaceKind.self), sector: row.string(4), town: row.string(5),
                    region: row.string(6), ownership: try Self.optionalEnum(row.string(7), Ownership.self),
                    headcount: row.int64OrNil(8), status: try Self.optionalEnum(row.string(9), StrikeStatus.self),
                    participants: row.int64OrNil(10), reportedAt: Self.instant(row.string(11)))
            } else {
                let named = try DirectStatement(cached: db, sql: """
                    SELECT 1 FROM entity WHERE kind = 'workplace' AND id = ?1
                    UNION ALL SELECT 1 FROM report WHERE body = 'workplace:' || ?1 LIMIT 1
                    """)
                defer { named.reset() }
                named.bind(1, id)
                guard try named.step() else { return nil }
                record = WorkplaceRecord(id: id, described: false)
            }
            let cap = WorkplaceDetail.listLimit
            // One look-up in the primary key of `report`: nearly always empty.
            let reports = try Self.reports(db, body: "workplace:\(id)", limit: cap + 1)
            let delegates = try Self.workplaceList(db, Self.workplaceDelegatesSQL, id, limit: cap + 1) { row in
                DelegateRecord(
                    id: row.string(0) ?? "", workplace: row.string(1), council: row.string(2) ?? "",
                    status: try Self.shownStatus(mandate: row.string(3), delegate: row.string(4)),
                    safety: try Self.optionalEnum(row.string(5), SafetyStatus.self),
                    mandate: try Self.optionalEnum(row.string(3), MandateStatus.self))
            }
            // The demands it adopted and those it reported an outcome for, each
            // in demand order from its own index, merged here. One query over
            // the UNION of the two cost twice as much (docs/performance.md):
            // three key look-ups per demand and a sort.
            let adopted = try Self.workplaceList(db, Self.workplaceAdoptionsSQL, id, limit: cap + 1) { row in
                let votes: Votes? = if let yes = row.int64OrNil(3), let no = row.int64OrNil(4), let abstain = row.int64OrNil(5) {
                    Votes(for: yes, against: no, abstain: abstain)
                } else {
                    nil
                }
                return WorkplaceDemandRecord(
                    demand: row.string(0) ?? "", text: row.string(1),
                    category: try Self.optionalEnum(row.string(2), DemandCategory.self),
                    adopted: true, votes: votes, outcome: nil)
            }
            let reported = try Self.workplaceList(db, Self.workplaceOutcomesSQL, id, limit: cap + 1) { row in
                WorkplaceDemandRecord(
                    demand: row.string(0) ?? "", text: row.string(1),
                    category: try Self.optionalEnum(row.string(2), DemandCategory.self),
                    adopted: false, votes: nil, outcome: try Self.optionalEnum(row.string(3), DemandOutcome.self))
            }
            let demands = Self.mergeDemands(adopted, reported, limit: cap + 1)
            let actions = try Self.workplaceList(db, Self.workplaceActionsSQL, id, limit: cap + 1) { row in
                WorkplaceActionRecord(
                    action: row.string(0) ?? "", kind: try Self.optionalEnum(row.string(1), ActionKind.self),
                    startsAt: row.string(2), participants: row.int64OrNil(3))
            }
            return WorkplaceDetail(
                workplace: record,
                delegates: Array(delegates.prefix(cap)),
                demands: Array(demands.prefix(cap)),
                actions: Array(actions.prefix(cap)),
                reports: Array(reports.prefix(cap)),
                truncated: delegates.count > cap || demands.count > cap || actions.count > cap || reports.count > cap
            )
        }
    }

    // GetWorkplace's lists, each read from its table's index on `workplace`
    // alone (schema v3: the indexes hold the columns read here; a test
    // checks the plans). Delegates: one row per mandate the workplace gave,
    // from mandate_body, each with its delegate's row by primary key.
    static let workplaceDelegatesSQL = """
        SELECT m.delegate, m.body, m.council, m.status, d.status, d.safety
        FROM mandate m JOIN delegate d ON d.id = m.delegate
        WHERE m.body_kind = 'workplace' AND m.body = ? ORDER BY m.delegate, m.council LIMIT ?
        """

    /// A delegate shown with one mandate: held, missing or exiled says more
    /// than the mandate's status; otherwise the mandate's own.
    static func shownStatus(mandate: String?, delegate: String?) throws -> DelegateStatus {
        let status = try requiredEnum(delegate, DelegateStatus.self)
        switch status {
        case .detained, .missing, .exiled: return status
        case .active, .recalled, .resigned: return try requiredEnum(mandate, DelegateStatus.self)
        }
    }
    static let workplaceAdoptionsSQL = """
        SELECT s.demand, d.text, d.category, s.votes_for, s.votes_against, s.votes_abstain
        FROM support s LEFT JOIN demand d ON d.id = s.demand
        WHERE s.workplace = ? ORDER BY s.demand LIMIT ?
        """
    static let workplaceOutcomesSQL = """
        SELECT o.demand, d.text, d.category, o.outcome
        FROM outcome o LEFT JOIN demand d ON d.id = o.demand
        WHERE o.workplace = ? ORDER BY o.demand LIMIT ?
        """
    static let workplaceActionsSQL = """
        SELECT p.action, a.kind, a.starts_at, p.participants
        FROM participation p LEFT JOIN action a ON a.id = p.action
        WHERE p.workplace = ? ORDER BY p.action LIMIT ?
        """

    /// One of GetWorkplace's lists: `sql` run for the workplace `id`, at most
    /// `limit` rows, each decoded by position.
    private static func workplaceList<Item>(
        _ db: Database, _ sql: String, _ id: String, limit: Int, _ decode: (DirectStatement) throws -> Item
    ) throws -> [Item] {
        let statement = try DirectStatement(cached: db, sql: sql)
        defer { statement.reset() }
        statement.bind(1, id)
        statement.bind(2, limit)
        var items: [Item] = []
        while try statement.step() {
            items.append(try decode(statement))
        }
        return items
    }

    /// Two lists in demand order (SQLite's: by UTF-8 bytes) merged into one,
    /// a demand in both once, with its adoption and its outcome; the first
    /// `limit`. Each list holds its own first `limit`, so the merge holds the
    /// first `limit` of the two together.
    static func mergeDemands(_ adopted: [WorkplaceDemandRecord], _ reported: [WorkplaceDemandRecord], limit: Int) -> [WorkplaceDemandRecord] {
        var merged: [WorkplaceDemandRecord] = []
        merged.reserveCapacity(min(limit, adopted.count + reported.count))
        var (a, r) = (0, 0)
        while merged.count < limit, a < adopted.count || r < reported.count {
            if r == reported.count || (a < adopted.count && adopted[a].demand.utf8.lexicographicallyPrecedes(reported[r].demand.utf8)) {
                merged.append(adopted[a])
                a += 1
            } else if a == adopted.count || reported[r].demand.utf8.lexicographicallyPrecedes(adopted[a].demand.utf8) {
                merged.append(reported[r])
                r += 1
            } else {
                var both = adopted[a]
                both.outcome = reported[r].outcome
                merged.append(both)
                a += 1
                r += 1
            }
        }
        return merged
    }

    /// Delegates with an election, by id, each with its latest mandate
    /// among those that match the filter (workplace, council, mandate status
    /// apply to one and the same mandate).
    public static func listDelegates(_ filter: DelegateQuery, page: PageRequest) throws(QueryError) -> StoreQuery<Page<DelegateRecord>> {
        let after = try Cursor.slug(page.cursor)
        let limit = page.clamped(to: PageRequest.maximumLimit)
        return StoreQuery { db in
            var mandateFilter = ""
            var mandateArguments: [any DatabaseValueConvertible] = []
            if let workplace = filter.workplace {
                mandateFilter += " AND x.body_kind = 'workplace' AND x.body = ?"
                mandateArguments.append(workplace)
            }
            if let council = filter.council { mandateFilter += " AND x.council = ?"; mandateArguments.append(council) }
            if let mandate = filter.mandate { mandateFilter += " AND x.status = ?"; mandateArguments.append(mandate.rawValue) }
            var sql = """
                SELECT d.id, d.status, d.safety, m.council, m.body_kind, m.body, m.status AS mandate,
                    (SELECT max(l.k) FROM message l WHERE l.subject = 'delegate/' || d.id AND l.report = 0) AS latest_k
                FROM delegate d JOIN mandate m ON m.delegate = d.id
                WHERE d.status IS NOT NULL AND d.id > ?
                """
            var arguments: [any DatabaseValueConvertible] = [after]
            if let status = filter.status { sql += " AND d.status = ?"; arguments.append(status.rawValue) }
            if let safety = filter.safety { sql += " AND d.safety = ?"; arguments.append(safety.rawValue) }
            sql += """
                 AND m.council = (SELECT x.council FROM mandate x WHERE x.delegate = d.id\(mandateFilter)
                    ORDER BY x.election_k DESC LIMIT 1)
                ORDER BY d.id LIMIT ?
                """
            arguments += mandateArguments
            arguments.append(limit + 1)
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
            return try Self.page(rows, limit: limit, decode: Self.delegate) { $0.id }
        }
    }

    /// Councils with a `council.formed`, by id.
    /// Its active delegates: active mandates in it whose delegate is counted
    /// active (not held, missing or exiled), from mandate_council, which
    /// holds the status, and each delegate's row by its key (`+m.status`,
    /// `+d.status`: the unary plus keeps SQLite from preferring a status
    /// index, which it may without statistics: that walked every active
    /// delegate once per council, 1.9 s for 50 councils and 150,000 delegates).
    static let listCouncilsSQL = """
        SELECT c.id, c.name, c.level, c.area,
            (SELECT count(*) FROM mandate m JOIN delegate d ON d.id = m.delegate
             WHERE m.council = c.id AND +m.status = 'active' AND +d.status = 'active') AS active
        FROM council c WHERE c.formed_k IS NOT NULL AND c.id > ? ORDER BY c.id LIMIT ?
        """

    public static func listCouncils(page: PageRequest) throws(QueryError) -> StoreQuery<Page<CouncilRecord>> {
        let after = try Cursor.slug(page.cursor)
        let limit = page.clamped(to: PageRequest.maximumLimit)
        return StoreQuery { db in
            let rows = try Row.fetchAll(db, sql: listCouncilsSQL, arguments: [after, limit + 1])
            return try Self.page(rows, limit: limit, decode: { row throws in
                CouncilRecord(
                    id: row["id"], name: row["name"], level: try Self.requiredEnum(row["level"], CouncilLevel.self),
                    area: row["area"], activeDelegates: row["active"])
            }) { $0.id }
        }
    }

    /// Proposed demands, by id, each with its first workplaces.
    ///
    /// - Parameter workplace: only demands this workplace adopted or reported an outcome for.
    public static func listDemands(category: DemandCategory?, workplace: String?, page: PageRequest) throws(QueryError) -> StoreQuery<Page<DemandRecord>> {
        let after = try Cursor.slug(page.cursor)
        let limit = page.clamped(to: PageRequest.maximumNestedLimit)
        return StoreQuery { db in
            var sql = "SELECT id, text, category FROM demand WHERE id > ?"
            var arguments: [any DatabaseValueConvertible] = [after]
            if let category { sql += " AND category = ?"; arguments.append(category.rawValue) }
            if let workplace {
                sql += " AND id IN (SELECT demand FROM support WHERE workplace = ? UNION SELECT demand FROM outcome WHERE workplace = ?)"
                arguments.append(workplace)
                arguments.append(workplace)
            }
            sql += " ORDER BY id LIMIT ?"
            arguments.append(limit + 1)
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
            return try Self.page(rows, limit: limit, decode: { row throws in
                let id: String = row["id"]
                let supporters = try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT count(*) FROM support WHERE demand = ?"), arguments: [id]) ?? 0
                var outcomes = OutcomeCounts()
                for count in try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT outcome, count(*) AS n FROM outcome WHERE demand = ? GROUP BY outcome"),
                    arguments: [id]
                ) {
                    let n: Int64 = count["n"]
                    switch try Self.requiredEnum(count["outcome"], DemandOutcome.self) {
                    case .presented: outcomes.presented = n
                    case .negotiating: outcomes.negotiating = n
                    case .won: outcomes.won = n
                    case .rejected: outcomes.rejected = n
                    case .withdrawn: outcomes.withdrawn = n
                    }
                }
                let inline = DemandRecord.inlineWorkplaces
                let workplaces = try Self.demandWorkplaces(db, demand: id, after: "", limit: inline + 1)
                return DemandRecord(
                    id: id, text: row["text"], category: try Self.requiredEnum(row["category"], DemandCategory.self),
                    supporters: supporters, outcomes: outcomes,
                    workplaces: Array(workplaces.prefix(inline)), moreWorkplaces: workplaces.count > inline)
            }) { $0.id }
        }
    }

    /// Every workplace that adopted `demand` or reported an outcome for it, by
    /// id; nil when no message proposes or names the demand.
    public static func listDemandWorkplaces(demand: String, page: PageRequest) throws(QueryError) -> StoreQuery<Page<DemandWorkplaceRecord>?> {
        let after = try Cursor.slug(page.cursor)
        let limit = page.clamped(to: PageRequest.maximumLimit)
        return StoreQuery { db in
            guard try Self.exists(db, table: "demand", kind: .demand, id: demand) else { return nil }
            let items = try Self.demandWorkplaces(db, demand: demand, after: after, limit: limit + 1)
            return Self.page(items, limit: limit) { $0.workplace }
        }
    }

    /// Called actions, by id, each with its first workplaces.
    ///
    /// - Parameter workplace: only actions this workplace joined.
    public static func listActions(workplace: String?, page: PageRequest) throws(QueryError) -> StoreQuery<Page<ActionRecord>> {
        let after = try Cursor.slug(page.cursor)
        let limit = page.clamped(to: PageRequest.maximumNestedLimit)
        return StoreQuery { db in
            var sql = "SELECT * FROM action WHERE id > ?"
            var arguments: [any DatabaseValueConvertible] = [after]
            if let workplace {
                sql += " AND id IN (SELECT action FROM participation WHERE workplace = ?)"
                arguments.append(workplace)
            }
            sql += " ORDER BY id LIMIT ?"
            arguments.append(limit + 1)
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
            return try Self.page(rows, limit: limit, decode: { row throws in
                let id: String = row["id"]
                // sum(), exact: every count is at most ValidationPolicy.maximumCount,
                // which keeps the sum within 64 bits (total() would round
                // beyond 2^53, and saturate).
                let totals = try Row.fetchOne(
                    db.cachedStatement(sql: """
                        SELECT count(*) AS joined, coalesce(sum(participants), 0) AS participants
                        FROM participation WHERE action = ?
                        """), arguments: [id])
                let inline = ActionRecord.inlineWorkplaces
                let workplaces = try Self.actionWorkplaces(db, action: id, after: "", limit: inline + 1)
                let demands: String? = row["demands"]
                return ActionRecord(
                    id: id, kind: try Self.requiredEnum(row["kind"], ActionKind.self), startsAt: row["starts_at"],
                    hours: row["hours"], demands: demands.map { SubjectRows.decodeSlugs($0).map(\.rawValue) } ?? [],
                    text: row["text"], joined: totals?["joined"] ?? 0, participants: totals?["participants"] ?? 0,
                    workplaces: Array(workplaces.prefix(inline)), moreWorkplaces: workplaces.count > inline)
            }) { $0.id }
        }
    }

    /// Every workplace that joined `action`, by id; nil when no message calls or names the action.
    public static func listActionWorkplaces(action: String, page: PageRequest) throws(QueryError) -> StoreQuery<Page<ActionWorkplaceRecord>?> {
        let after = try Cursor.slug(page.cursor)
        let limit = page.clamped(to: PageRequest.maximumLimit)
        return StoreQuery { db in
            guard try Self.exists(db, table: "action", kind: .action, id: action) else { return nil }
            let items = try Self.actionWorkplaces(db, action: action, after: after, limit: limit + 1)
            return Self.page(items, limit: limit) { $0.workplace }
        }
    }

    /// Rejected versions, oldest first (by first-seen time, then hash).
    public static func listRejected(page: PageRequest) throws(QueryError) -> StoreQuery<Page<RejectedRecord>> {
        let after = try Cursor.rejected(page.cursor)
        let limit = page.clamped(to: PageRequest.maximumLimit)
        return StoreQuery { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT lower(hex(hash)) AS hex, origin, seq, code, detail, source, first_seen FROM version
                WHERE state <> 'applied' AND (first_seen, hash) > (?, ?)
                ORDER BY first_seen, hash LIMIT ?
                """, arguments: [after.firstSeen, after.hash, limit + 1])
            return try Self.page(rows, limit: limit, decode: { row in
                RejectedRecord(
                    hash: row["hex"], origin: row["origin"], seq: row["seq"], code: row["code"] ?? "",
                    detail: row["detail"] ?? "", source: row["source"], firstSeen: row["first_seen"])
            }) { Cursor.rejected(firstSeen: $0.firstSeen, hash: $0.hash) }
        }
    }

    /// What is kept of the rejected version whose identity is `hash`; nil
    /// when no rejected version has that hash.
    public static func rejectedText(hash: Data) -> StoreQuery<RejectedText?> {
        StoreQuery { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT body FROM version WHERE state <> 'applied' AND hash = ?", arguments: [hash]
            ) else { return nil }
            return (row[0] as String?).map(RejectedText.message) ?? .notKept
        }
    }

    /// For each origin, the runs of seq in 1…(highest arrived) of which no copy
    /// arrived, by origin and first seq.
    ///
    /// Computed from the arrivals in key order (an arrival whose predecessor
    /// has not arrived ends a gap), never by enumerating seqs: a seq may be
    /// near 2^63.
    public static func gaps(origin: String?, page: PageRequest) throws(QueryError) -> StoreQuery<Page<GapRecord>> {
        let after = try Cursor.gap(page.cursor)
        let limit = page.clamped(to: PageRequest.maximumLimit)
        return StoreQuery { db in
            // A gap ends just below an arrival whose predecessor has not
            // arrived: walk the arrivals in key order from the cursor (an
            // arrival, the end of the last gap returned) and stop at the
            // page's end, instead of numbering every arrival with a window
            // function and sorting the result (0.8 s for a million
            // arrivals, now 0.3 s when there is no gap at all, less when
            // there are). The start is the arrival before it, or 1.
            var sql = """
                SELECT a.origin, coalesce(
                        (SELECT max(b.seq) FROM arrival b WHERE b.origin = a.origin AND b.seq < a.seq), 0) + 1 AS first,
                    a.seq - 1 AS last, a.seq AS after
                FROM arrival a
                WHERE (a.origin, a.seq) > (?, ?) AND a.seq > 1
                  AND NOT EXISTS (SELECT 1 FROM arrival b WHERE b.origin = a.origin AND b.seq = a.seq - 1)
                """
            var arguments: [any DatabaseValueConvertible] = [after.origin, after.seq]
            if let origin {
                sql += " AND a.origin = ?"
                arguments.append(origin)
            }
            sql += " ORDER BY a.origin, a.seq LIMIT ?"
            arguments.append(limit + 1)
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
            let gaps = rows.map { row in
                (record: GapRecord(origin: row[0], first: row[1], last: row[2]), after: row[3] as Int64)
            }
            let page = Self.page(gaps, limit: limit) { Cursor.gap(origin: $0.record.origin, after: $0.after) }
            return Page(items: page.items.map(\.record), next: page.next)
        }
    }

    /// Entities that applied messages name but none describes, by kind and id.
    public static func unresolved(kind: EntityKind?, page: PageRequest) throws(QueryError) -> StoreQuery<Page<UnresolvedRecord>> {
        let after = try Cursor.entity(page.cursor)
        let limit = page.clamped(to: PageRequest.maximumLimit)
        return StoreQuery { db in
            var sql = "SELECT kind, id, messages FROM entity r WHERE (kind, id) > (?, ?)"
            var arguments: [any DatabaseValueConvertible] = [after.kind, after.id]
            if let kind { sql += " AND kind = ?"; arguments.append(kind.rawValue) }
            sql += """
                 AND CASE kind
                    WHEN 'workplace' THEN NOT EXISTS (SELECT 1 FROM workplace x WHERE x.id = r.id AND x.reported_k IS NOT NULL)
                    WHEN 'council' THEN NOT EXISTS (SELECT 1 FROM council x WHERE x.id = r.id AND x.formed_k IS NOT NULL)
                    WHEN 'delegate' THEN NOT EXISTS (SELECT 1 FROM delegate x WHERE x.id = r.id AND x.status IS NOT NULL)
                    WHEN 'demand' THEN NOT EXISTS (SELECT 1 FROM demand x WHERE x.id = r.id)
                    WHEN 'action' THEN NOT EXISTS (SELECT 1 FROM action x WHERE x.id = r.id)
                    END
                ORDER BY kind, id LIMIT ?
                """
            arguments.append(limit + 1)
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
            return try Self.page(rows, limit: limit, decode: { row throws in
                UnresolvedRecord(kind: try Self.requiredEnum(row["kind"], EntityKind.self), id: row["id"], messages: row["messages"])
            }) { Cursor.entity(kind: $0.kind.rawValue, id: $0.id) }
        }
    }

    // MARK: - Shared pieces


    static func page<Item>(_ rows: [Row], limit: Int, decode: (Row) throws -> Item, key: (Item) -> String) throws -> Page<Item> {
        let items = try rows.prefix(limit).map(decode)
        return Page(items: items, next: rows.count > limit ? items.last.map(key) : nil)
    }

    static func page<Item>(_ items: [Item], limit: Int, key: (Item) -> String) -> Page<Item> {
        let kept = Array(items.prefix(limit))
        return Page(items: kept, next: items.count > limit ? kept.last.map(key) : nil)
    }

    static func exists(_ db: Database, table: String, kind: EntityKind, id: String) throws -> Bool {
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM \(table) WHERE id = ?", arguments: [id]) != nil { return true }
        return try Bool.fetchOne(db, sql: "SELECT 1 FROM entity WHERE kind = ? AND id = ?", arguments: [kind.rawValue, id]) != nil
    }

    static func demandWorkplaces(_ db: Database, demand: String, after: String, limit: Int) throws -> [DemandWorkplaceRecord] {
        try Row.fetchAll(db.cachedStatement(sql: """
            SELECT w.workplace, s.adoption_k IS NOT NULL AS adopted, s.votes_for, s.votes_against, s.votes_abstain, o.outcome
            FROM (SELECT workplace FROM support WHERE demand = ?1 AND workplace > ?2
                  UNION SELECT workplace FROM outcome WHERE demand = ?1 AND workplace > ?2
                  ORDER BY 1 LIMIT ?3) w
            LEFT JOIN support s ON s.demand = ?1 AND s.workplace = w.workplace
            LEFT JOIN outcome o ON o.demand = ?1 AND o.workplace = w.workplace
            ORDER BY w.workplace
            """), arguments: [demand, after, limit]).map { row throws in
                DemandWorkplaceRecord(
                    workplace: row["workplace"], adopted: row["adopted"], votes: votes(row),
                    outcome: try optionalEnum(row["outcome"], DemandOutcome.self))
            }
    }

    static func actionWorkplaces(_ db: Database, action: String, after: String, limit: Int) throws -> [ActionWorkplaceRecord] {
        try Row.fetchAll(db.cachedStatement(sql: """
            SELECT workplace, participants FROM participation WHERE action = ? AND workplace > ? ORDER BY workplace LIMIT ?
            """), arguments: [action, after, limit]).map { row in
                ActionWorkplaceRecord(workplace: row["workplace"], participants: row["participants"])
            }
    }

    static func workplace(_ row: Row) throws -> WorkplaceRecord {
        WorkplaceRecord(
            id: row["id"], described: (row["reported_k"] as String?) != nil, name: row["name"],
            kind: try optionalEnum(row["kind"], WorkplaceKind.self), sector: row["sector"], town: row["town"],
            region: row["region"], ownership: try optionalEnum(row["ownership"], Ownership.self),
            headcount: row["headcount"], status: try optionalEnum(row["status"], StrikeStatus.self),
            participants: row["participants"],
            reportedAt: instant(max(row["reported_k"] as String? ?? "", row["strike_k"] as String? ?? "")))
    }

    static func delegate(_ row: Row) throws -> DelegateRecord {
        let kind: String = row["body_kind"]
        return DelegateRecord(
            id: row["id"], workplace: kind == "workplace" ? row["body"] : nil,
            fromCouncil: kind == "council" ? row["body"] : nil, council: row["council"],
            status: try requiredEnum(row["status"], DelegateStatus.self),
            safety: try optionalEnum(row["safety"], SafetyStatus.self),
            mandate: try optionalEnum(row["mandate"], MandateStatus.self),
            reportedAt: instant(row["latest_k"]))
    }

    /// The sent_at of an order key (`UTC-instant origin seq`) as RFC 3339 UTC.
    static func instant(_ key: String?) -> String? {
        guard let key, let space = key.firstIndex(of: " ") else { return nil }
        return String(key[..<space]) + "Z"
    }

    static func votes(_ row: Row) -> Votes? {
        guard let yes: Int64 = row["votes_for"], let no: Int64 = row["votes_against"], let abstain: Int64 = row["votes_abstain"] else {
            return nil
        }
        return Votes(for: yes, against: no, abstain: abstain)
    }

    static func optionalEnum<E: RawRepresentable>(_ text: String?, _ type: E.Type) throws -> E? where E.RawValue == String {
        guard let text else { return nil }
        return try requiredEnum(text, type)
    }

    static func requiredEnum<E: RawRepresentable>(_ text: String?, _ type: E.Type) throws -> E where E.RawValue == String {
        guard let text, let value = E(rawValue: text) else {
            throw StoreError.corrupt("unexpected \(E.self) \(text.map { "\"\($0)\"" } ?? "NULL") in the database")
        }
        return value
    }
}

extension WorkplaceRecord {
    init(id: String, described: Bool) {
        self.init(
            id: id, described: described, name: nil, kind: nil, sector: nil, town: nil, region: nil, ownership: nil,
            headcount: nil, status: nil, participants: nil)
    }
}

/// Cursors: the sort key of the last item returned, in a form each query can
/// check. Callers treat them as opaque strings.
enum Cursor {
    /// A slug (lists ordered by id); "" before the first page.
    static func slug(_ cursor: String?) throws(QueryError) -> String {
        guard let cursor else { return "" }
        guard Slug.isValid(cursor) else { throw .invalidCursor }
        return cursor
    }

    static func rejected(firstSeen: Int64, hash: String) -> String { "\(firstSeen).\(hash)" }

    static func rejected(_ cursor: String?) throws(QueryError) -> (firstSeen: Int64, hash: Data) {
        guard let cursor else { return (Int64.min, Data()) }
        let parts = cursor.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let firstSeen = Int64(parts[0]), let hash = hexBytes(parts[1]), hash.count == 32 else {
            throw .invalidCursor
        }
        return (firstSeen, hash)
    }

    /// After the gap that ends just below arrival `after` of `origin`.
    static func gap(origin: String, after: Int64) -> String { "\(origin).\(after)" }

    static func gap(_ cursor: String?) throws(QueryError) -> (origin: String, seq: Int64) {
        guard let cursor else { return ("", 0) }
        let parts = cursor.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, Slug.isValid(String(parts[0])), let seq = Int64(parts[1]), seq >= 2 else {
            throw .invalidCursor
        }
        return (String(parts[0]), seq)
    }

    static func entity(kind: String, id: String) -> String { "\(kind).\(id)" }

    static func entity(_ cursor: String?) throws(QueryError) -> (kind: String, id: String) {
        guard let cursor else { return ("", "") }
        let parts = cursor.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, EntityKind(rawValue: String(parts[0])) != nil, Slug.isValid(String(parts[1])) else {
            throw .invalidCursor
        }
        return (String(parts[0]), String(parts[1]))
    }

    private static func hexBytes(_ text: Substring) -> Data? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes = Data()
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

// The same queries run without blocking the calling thread, for callers that
// have no reason to choose (tests, Watch's first Summary).
extension Store {
    public func summaryAsync() async throws(QueryError) -> Summary {
        try await read(Store.summaryQuery)
    }

    public func listWorkplaces(_ filter: WorkplaceQuery, page: PageRequest) async throws(QueryError) -> Page<WorkplaceRecord> {
        try await read(Store.listWorkplaces(filter, page: page))
    }

    public func getWorkplace(_ id: String) async throws(QueryError) -> WorkplaceDetail? {
        try await read(Store.getWorkplace(id))
    }

    public func listDelegates(_ filter: DelegateQuery, page: PageRequest) async throws(QueryError) -> Page<DelegateRecord> {
        try await read(Store.listDelegates(filter, page: page))
    }

    public func listCouncils(page: PageRequest) async throws(QueryError) -> Page<CouncilRecord> {
        try await read(Store.listCouncils(page: page))
    }

    public func listDemands(category: DemandCategory?, workplace: String?, page: PageRequest) async throws(QueryError) -> Page<DemandRecord> {
        try await read(Store.listDemands(category: category, workplace: workplace, page: page))
    }

    public func listDemandWorkplaces(demand: String, page: PageRequest) async throws(QueryError) -> Page<DemandWorkplaceRecord>? {
        try await read(Store.listDemandWorkplaces(demand: demand, page: page))
    }

    public func listActions(workplace: String?, page: PageRequest) async throws(QueryError) -> Page<ActionRecord> {
        try await read(Store.listActions(workplace: workplace, page: page))
    }

    public func listActionWorkplaces(action: String, page: PageRequest) async throws(QueryError) -> Page<ActionWorkplaceRecord>? {
        try await read(Store.listActionWorkplaces(action: action, page: page))
    }

    public func listRejected(page: PageRequest) async throws(QueryError) -> Page<RejectedRecord> {
        try await read(Store.listRejected(page: page))
    }

    public func gaps(origin: String?, page: PageRequest) async throws(QueryError) -> Page<GapRecord> {
        try await read(Store.gaps(origin: origin, page: page))
    }

    public func unresolved(kind: EntityKind?, page: PageRequest) async throws(QueryError) -> Page<UnresolvedRecord> {
        try await read(Store.unresolved(kind: kind, page: page))
    }
}
