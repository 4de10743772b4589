import GRDB
import StrikeCore

/// Maps each subject's folded state to its table row and back.
///
/// Every stamped field is stored as a value column plus a `_k` column holding
/// the order key of the message that set it, so the next message can be folded
/// in without reading any other message.
///
/// One per write transaction (the `Reconciler` owns it): its statements are
/// prepared on first use and run through SQLite's C API (`DirectStatement`),
/// since a subject's row is read and written for nearly every message.
struct SubjectRows {
    let db: Database
    private var statements: [Query: DirectStatement] = [:]

    init(_ db: Database) {
        self.db = db
    }

    enum Query: Hashable {
        case load(Kind)
        case save(Kind)
        case delete(Kind)
    }

    enum Kind: Hashable {
        case workplace, council, delegate, mandate, demand, support, outcome, action, participation
    }

    mutating func statement(_ query: Query, _ sql: @autoclosure () -> String) throws -> DirectStatement {
        if let statement = statements[query] {
            statement.reset()
            return statement
        }
        let statement = try DirectStatement(db, sql: sql())
        statements[query] = statement
        return statement
    }

    // Columns are read by position, in the order each SELECT names them.
    mutating func load(_ subject: Subject) throws -> SubjectState {
        switch subject {
        case .workplace(let id):
            var state = WorkplaceState(id: id)
            let s = try statement(.load(.workplace), """
                SELECT reported_k, name, name_k, kind, kind_k, sector, sector_k, town, town_k, region, region_k,
                    ownership, ownership_k, headcount, headcount_k, status, participants, strike_k
                FROM workplace WHERE id = ?
                """)
            s.bind(1, id.rawValue)
            if try s.step() {
                state.reported = Self.key(s, 0)
                state.name = Self.stampedText(s, 1)
                state.kind = Self.stampedEnum(s, 3)
                state.sector = Self.stampedText(s, 5)
                state.town = Self.stampedText(s, 7)
                state.region = Self.stampedText(s, 9)
                state.ownership = Self.stampedEnum(s, 11)
                state.headcount = Self.stampedInteger(s, 13)
                if let strikeKey = Self.key(s, 17), let status = s.string(15).flatMap(StrikeStatus.init(rawValue:)) {
                    state.strike = Stamped(.init(status: status, participants: s.int64OrNil(16)), at: strikeKey)
                }
            }
            s.reset()
            return .workplace(state)
        case .council(let id):
            var state = CouncilState(id: id)
            let s = try statement(.load(.council), """
                SELECT formed_k, name, name_k, level, level_k, area, area_k FROM council WHERE id = ?
                """)
            s.bind(1, id.rawValue)
            if try s.step() {
                state.formed = Self.key(s, 0)
                state.name = Self.stampedText(s, 1)
                state.level = Self.stampedEnum(s, 3)
                state.area = Self.stampedText(s, 5)
            }
            s.reset()
            return .council(state)
        case .delegate(let id):
            return .delegate(try loadDelegate(id))
        case .demand(let id):
            var state = DemandState(id: id)
            let s = try statement(.load(.demand), "SELECT proposal_k, category, text FROM demand WHERE id = ?")
            s.bind(1, id.rawValue)
            if try s.step(), let proposalKey = Self.key(s, 0), let category = s.string(1).flatMap(DemandCategory.init(rawValue:)),
               let text = s.string(2) {
                state.proposal = Stamped(.init(text: text, category: category), at: proposalKey)
            }
            s.reset()
            return .demand(state)
        case .support(let demand, let workplace):
            var state = SupportState(demand: demand, workplace: workplace)
            let s = try statement(.load(.support), "SELECT adoption_k, votes_for, votes_against, votes_abstain FROM support WHERE demand = ? AND workplace = ?")
            s.bind(1, demand.rawValue)
            s.bind(2, workplace.rawValue)
            if try s.step(), let adoptionKey = Self.key(s, 0) {
                var votes: Votes?
                if let yes = s.int64OrNil(1), let no = s.int64OrNil(2), let abstain = s.int64OrNil(3) {
                    votes = Votes(for: yes, against: no, abstain: abstain)
                }
                state.adoption = Stamped(votes, at: adoptionKey)
            }
            s.reset()
            return .support(state)
        case .outcome(let demand, let workplace):
            var state = OutcomeState(demand: demand, workplace: workplace)
            let s = try statement(.load(.outcome), "SELECT outcome, outcome_k FROM outcome WHERE demand = ? AND workplace = ?")
            s.bind(1, demand.rawValue)
            s.bind(2, workplace.rawValue)
            if try s.step() {
                state.outcome = Self.stampedEnum(s, 0)
            }
            s.reset()
            return .outcome(state)
        case .action(let id):
            var state = ActionState(id: id)
            let s = try statement(.load(.action), """
                SELECT called_k, kind, kind_k, starts_at, starts_at_k, hours, hours_k, demands, demands_k, text, text_k
                FROM action WHERE id = ?
                """)
            s.bind(1, id.rawValue)
            if try s.step() {
                state.called = Self.key(s, 0)
                state.kind = Self.stampedEnum(s, 1)
                if let startsKey = Self.key(s, 4), let startsAt = Timestamp(s.string(3) ?? "") {
                    state.startsAt = Stamped(startsAt, at: startsKey)
                }
                state.hours = Self.stampedInteger(s, 5)
                if let demandsKey = Self.key(s, 8), let text = s.string(7) {
                    state.demands = Stamped(Self.decodeSlugs(text), at: demandsKey)
                }
                state.text = Self.stampedText(s, 9)
            }
            s.reset()
            return .action(state)
        case .participation(let action, let workplace):
            var state = ParticipationState(action: action, workplace: workplace)
            let s = try statement(.load(.participation), """
                SELECT joined_k, participants, participants_k FROM participation WHERE action = ? AND workplace = ?
                """)
            s.bind(1, action.rawValue)
            s.bind(2, workplace.rawValue)
            if try s.step() {
                state.joined = Self.key(s, 0)
                state.participants = Self.stampedInteger(s, 1)
            }
            s.reset()
            return .participation(state)
        }
    }

    /// Writes the state, or deletes the row when no message is left for it.
    /// `before` is the state as loaded: a delegate's mandate rows are written
    /// only where they changed.
    mutating func save(_ state: SubjectState, subject: Subject, before: SubjectState) throws {
        if state.isEmpty {
            try delete(subject)
            return
        }
        switch state {
        case .workplace(let v):
            let s = try statement(.save(.workplace), """
                INSERT OR REPLACE INTO workplace (id, reported_k, name, name_k, kind, kind_k, sector, sector_k,
                    town, town_k, region, region_k, ownership, ownership_k, headcount, headcount_k,
                    status, participants, strike_k)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            s.bind(1, v.id.rawValue)
            s.bind(2, v.reported?.rawValue)
            s.bind(3, v.name?.value)
            s.bind(4, v.name?.key.rawValue)
            s.bind(5, v.kind?.value.rawValue)
            s.bind(6, v.kind?.key.rawValue)
            s.bind(7, v.sector?.value)
            s.bind(8, v.sector?.key.rawValue)
            s.bind(9, v.town?.value)
            s.bind(10, v.town?.key.rawValue)
            s.bind(11, v.region?.value)
            s.bind(12, v.region?.key.rawValue)
            s.bind(13, v.ownership?.value.rawValue)
            s.bind(14, v.ownership?.key.rawValue)
            s.bind(15, v.headcount?.value)
            s.bind(16, v.headcount?.key.rawValue)
            s.bind(17, v.strike?.value.status.rawValue)
            s.bind(18, v.strike?.value.participants)
            s.bind(19, v.strike?.key.rawValue)
            try s.execute()
        case .council(let v):
            let s = try statement(.save(.council), """
                INSERT OR REPLACE INTO council (id, formed_k, name, name_k, level, level_k, area, area_k)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            s.bind(1, v.id.rawValue)
            s.bind(2, v.formed?.rawValue)
            s.bind(3, v.name?.value)
            s.bind(4, v.name?.key.rawValue)
            s.bind(5, v.level?.value.rawValue)
            s.bind(6, v.level?.key.rawValue)
            s.bind(7, v.area?.value)
            s.bind(8, v.area?.key.rawValue)
            try s.execute()
        case .delegate(let v):
            guard case .delegate(let old) = before else { preconditionFailure("delegate \(v.id) saved over another subject") }
            try saveDelegate(v, before: old)
        case .demand(let v):
            let s = try statement(.save(.demand), "INSERT OR REPLACE INTO demand (id, text, category, proposal_k) VALUES (?, ?, ?, ?)")
            s.bind(1, v.id.rawValue)
            s.bind(2, v.proposal?.value.text)
            s.bind(3, v.proposal?.value.category.rawValue)
            s.bind(4, v.proposal?.key.rawValue)
            try s.execute()
        case .support(let v):
            let votes = v.adoption?.value
            let s = try statement(.save(.support), """
                INSERT OR REPLACE INTO support (demand, workplace, votes_for, votes_against, votes_abstain, adoption_k)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
            s.bind(1, v.demand.rawValue)
            s.bind(2, v.workplace.rawValue)
            s.bind(3, votes?.yes)
            s.bind(4, votes?.no)
            s.bind(5, votes?.abstain)
            s.bind(6, v.adoption?.key.rawValue)
            try s.execute()
        case .outcome(let v):
            let s = try statement(.save(.outcome), "INSERT OR REPLACE INTO outcome (demand, workplace, outcome, outcome_k) VALUES (?, ?, ?, ?)")
            s.bind(1, v.demand.rawValue)
            s.bind(2, v.workplace.rawValue)
            s.bind(3, v.outcome?.value.rawValue)
            s.bind(4, v.outcome?.key.rawValue)
            try s.execute()
        case .action(let v):
            let s = try statement(.save(.action), """
                INSERT OR REPLACE INTO action (id, called_k, kind, kind_k, starts_at, starts_at_k, hours, hours_k,
                    demands, demands_k, text, text_k)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            s.bind(1, v.id.rawValue)
            s.bind(2, v.called?.rawValue)
            s.bind(3, v.kind?.value.rawValue)
            s.bind(4, v.kind?.key.rawValue)
            s.bind(5, v.startsAt?.value.text)
            s.bind(6, v.startsAt?.key.rawValue)
            s.bind(7, v.hours?.value)
            s.bind(8, v.hours?.key.rawValue)
            s.bind(9, v.demands.map { Self.encodeSlugs($0.value) })
            s.bind(10, v.demands?.key.rawValue)
            s.bind(11, v.text?.value)
            s.bind(12, v.text?.key.rawValue)
            try s.execute()
        case .participation(let v):
            let s = try statement(.save(.participation), """
                INSERT OR REPLACE INTO participation (action, workplace, joined_k, participants, participants_k)
                VALUES (?, ?, ?, ?, ?)
                """)
            s.bind(1, v.action.rawValue)
            s.bind(2, v.workplace.rawValue)
            s.bind(3, v.joined?.rawValue)
            s.bind(4, v.participants?.value)
            s.bind(5, v.participants?.key.rawValue)
            try s.execute()
        }
    }

    private mutating func delete(_ subject: Subject) throws {
        // Rare (a conflict or a requeue took a subject's last message out):
        // GRDB's statements are enough.
        switch subject {
        case .workplace(let id): try db.cachedStatement(sql: "DELETE FROM workplace WHERE id = ?").execute(arguments: [id.rawValue])
        case .council(let id): try db.cachedStatement(sql: "DELETE FROM council WHERE id = ?").execute(arguments: [id.rawValue])
        case .delegate(let id):
            try db.cachedStatement(sql: "DELETE FROM delegate WHERE id = ?").execute(arguments: [id.rawValue])
            try db.cachedStatement(sql: "DELETE FROM mandate WHERE delegate = ?").execute(arguments: [id.rawValue])
        case .demand(let id): try db.cachedStatement(sql: "DELETE FROM demand WHERE id = ?").execute(arguments: [id.rawValue])
        case .support(let demand, let workplace):
            try db.cachedStatement(sql: "DELETE FROM support WHERE demand = ? AND workplace = ?").execute(arguments: [demand.rawValue, workplace.rawValue])
        case .outcome(let demand, let workplace):
            try db.cachedStatement(sql: "DELETE FROM outcome WHERE demand = ? AND workplace = ?").execute(arguments: [demand.rawValue, workplace.rawValue])
        case .action(let id): try db.cachedStatement(sql: "DELETE FROM action WHERE id = ?").execute(arguments: [id.rawValue])
        case .participation(let action, let workplace):
            try db.cachedStatement(sql: "DELETE FROM participation WHERE action = ? AND workplace = ?").execute(arguments: [action.rawValue, workplace.rawValue])
        }
    }

    // MARK: - Helpers

    static func key(_ s: DirectStatement, _ column: Int32) -> OrderKey? {
        s.string(column).map(OrderKey.init(rawValue:))
    }

    /// A text value at `column` and its order key in the next column.
    private static func stampedText(_ s: DirectStatement, _ column: Int32) -> Stamped<String>? {
        guard let key = key(s, column + 1), let value = s.string(column) else { return nil }
        return Stamped(value, at: key)
    }

    private static func stampedInteger(_ s: DirectStatement, _ column: Int32) -> Stamped<Int64>? {
        guard let key = key(s, column + 1), let value = s.int64OrNil(column) else { return nil }
        return Stamped(value, at: key)
    }

    static func stampedEnum<E: RawRepresentable & Sendable & Equatable>(_ s: DirectStatement, _ column: Int32) -> Stamped<E>? where E.RawValue == String {
        guard let key = key(s, column + 1), let text = s.string(column), let value = E(rawValue: text) else { return nil }
        return Stamped(value, at: key)
    }

    /// Slug lists are stored as a JSON array of strings (slugs need no escaping).
    static func encodeSlugs(_ slugs: [Slug]) -> String {
        "[" + slugs.map { "\"\($0.rawValue)\"" }.joined(separator: ",") + "]"
    }

    static func decodeSlugs(_ text: String) -> [Slug] {
        guard case .array(let elements)? = try? JSONReader.read(Array(text.utf8)) else { return [] }
        return elements.compactMap { if case .string(let s) = $0 { Slug(s) } else { nil } }
    }
}

extension Slug {
    init?(_ text: String?) {
        guard let text else { return nil }
        self.init(text)
    }
}
