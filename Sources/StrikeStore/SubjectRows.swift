import GRDB
import StrikeCore

/// Maps each subject's folded state to its table row and back.
///
/// Every stamped field is stored as a value column plus a `_k` column holding
/// the order key of the message that set it, so the next message can be folded
/// in without reading any other message.
enum SubjectRows {
    // Columns are read by position, in the order each SELECT names them:
    // looking a column up by name lowercases the name on every access.
    static func load(_ db: Database, _ subject: Subject) throws -> SubjectState {
        switch subject {
        case .workplace(let id):
            var state = WorkplaceState(id: id)
            if let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT reported_k, name, name_k, kind, kind_k, sector, sector_k, town, town_k, region, region_k,
                    ownership, ownership_k, headcount, headcount_k, status, participants, strike_k
                FROM workplace WHERE id = ?
                """), arguments: [id.rawValue]) {
                state.reported = key(row[0])
                state.name = stamped(row, 1)
                state.kind = stampedEnum(row, 3)
                state.sector = stamped(row, 5)
                state.town = stamped(row, 7)
                state.region = stamped(row, 9)
                state.ownership = stampedEnum(row, 11)
                state.headcount = stamped(row, 13)
                if let strikeKey = key(row[17]), let status = StrikeStatus(rawValue: row[15]) {
                    state.strike = Stamped(.init(status: status, participants: row[16]), at: strikeKey)
                }
            }
            return .workplace(state)
        case .council(let id):
            var state = CouncilState(id: id)
            if let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT formed_k, name, name_k, level, level_k, area, area_k FROM council WHERE id = ?
                """), arguments: [id.rawValue]) {
                state.formed = key(row[0])
                state.name = stamped(row, 1)
                state.level = stampedEnum(row, 3)
                state.area = stamped(row, 5)
            }
            return .council(state)
        case .delegate(let id):
            var state = DelegateState(id: id)
            if let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT election_k, workplace, council, status, status_k FROM delegate WHERE id = ?
                """), arguments: [id.rawValue]) {
                if let electionKey = key(row[0]), let workplace = Slug(row[1] as String?), let council = Slug(row[2] as String?) {
                    state.election = Stamped(.init(workplace: workplace, council: council), at: electionKey)
                }
                state.status = stampedEnum(row, 3)
            }
            return .delegate(state)
        case .demand(let id):
            var state = DemandState(id: id)
            if let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT proposal_k, category, text FROM demand WHERE id = ?"), arguments: [id.rawValue]),
               let proposalKey = key(row[0]), let category = DemandCategory(rawValue: row[1]) {
                state.proposal = Stamped(.init(text: row[2], category: category), at: proposalKey)
            }
            return .demand(state)
        case .support(let demand, let workplace):
            var state = SupportState(demand: demand, workplace: workplace)
            if let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT adoption_k, votes_for, votes_against, votes_abstain FROM support WHERE demand = ? AND workplace = ?"),
                arguments: [demand.rawValue, workplace.rawValue]
            ), let adoptionKey = key(row[0]) {
                var votes: Votes?
                if let yes: Int64 = row[1], let no: Int64 = row[2], let abstain: Int64 = row[3] {
                    votes = Votes(for: yes, against: no, abstain: abstain)
                }
                state.adoption = Stamped(votes, at: adoptionKey)
            }
            return .support(state)
        case .outcome(let demand, let workplace):
            var state = OutcomeState(demand: demand, workplace: workplace)
            if let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT outcome, outcome_k FROM outcome WHERE demand = ? AND workplace = ?"),
                arguments: [demand.rawValue, workplace.rawValue]
            ) {
                state.outcome = stampedEnum(row, 0)
            }
            return .outcome(state)
        case .action(let id):
            var state = ActionState(id: id)
            if let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT called_k, kind, kind_k, starts_at, starts_at_k, hours, hours_k, demands, demands_k, text, text_k
                FROM action WHERE id = ?
                """), arguments: [id.rawValue]) {
                state.called = key(row[0])
                state.kind = stampedEnum(row, 1)
                if let startsKey = key(row[4]), let startsAt = Timestamp(row[3] as String? ?? "") {
                    state.startsAt = Stamped(startsAt, at: startsKey)
                }
                state.hours = stamped(row, 5)
                if let demandsKey = key(row[8]), let text: String = row[7] {
                    state.demands = Stamped(decodeSlugs(text), at: demandsKey)
                }
                state.text = stamped(row, 9)
            }
            return .action(state)
        case .participation(let action, let workplace):
            var state = ParticipationState(action: action, workplace: workplace)
            if let row = try Row.fetchOne(
                db.cachedStatement(sql: """
                    SELECT joined_k, participants, participants_k FROM participation WHERE action = ? AND workplace = ?
                    """),
                arguments: [action.rawValue, workplace.rawValue]
            ) {
                state.joined = key(row[0])
                state.participants = stamped(row, 1)
            }
            return .participation(state)
        }
    }

    /// Writes the state, or deletes the row when no message is left for it.
    static func save(_ db: Database, _ state: SubjectState, subject: Subject) throws {
        if state.isEmpty {
            try delete(db, subject)
            return
        }
        switch state {
        case .workplace(let s):
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO workplace (id, reported_k, name, name_k, kind, kind_k, sector, sector_k,
                    town, town_k, region, region_k, ownership, ownership_k, headcount, headcount_k,
                    status, participants, strike_k)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    s.id.rawValue, s.reported?.rawValue, s.name?.value, s.name?.key.rawValue,
                    s.kind?.value.rawValue, s.kind?.key.rawValue, s.sector?.value, s.sector?.key.rawValue,
                    s.town?.value, s.town?.key.rawValue, s.region?.value, s.region?.key.rawValue,
                    s.ownership?.value.rawValue, s.ownership?.key.rawValue, s.headcount?.value, s.headcount?.key.rawValue,
                    s.strike?.value.status.rawValue, s.strike?.value.participants, s.strike?.key.rawValue,
                ])
        case .council(let s):
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO council (id, formed_k, name, name_k, level, level_k, area, area_k)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    s.id.rawValue, s.formed?.rawValue, s.name?.value, s.name?.key.rawValue,
                    s.level?.value.rawValue, s.level?.key.rawValue, s.area?.value, s.area?.key.rawValue,
                ])
        case .delegate(let s):
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO delegate (id, workplace, council, election_k, status, status_k)
                VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    s.id.rawValue, s.election?.value.workplace.rawValue, s.election?.value.council.rawValue,
                    s.election?.key.rawValue, s.status?.value.rawValue, s.status?.key.rawValue,
                ])
        case .demand(let s):
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO demand (id, text, category, proposal_k) VALUES (?, ?, ?, ?)")
                .execute(arguments: [s.id.rawValue, s.proposal?.value.text, s.proposal?.value.category.rawValue, s.proposal?.key.rawValue])
        case .support(let s):
            let votes = s.adoption?.value
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO support (demand, workplace, votes_for, votes_against, votes_abstain, adoption_k)
                VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    s.demand.rawValue, s.workplace.rawValue, votes?.yes, votes?.no, votes?.abstain, s.adoption?.key.rawValue,
                ])
        case .outcome(let s):
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO outcome (demand, workplace, outcome, outcome_k) VALUES (?, ?, ?, ?)")
                .execute(arguments: [s.demand.rawValue, s.workplace.rawValue, s.outcome?.value.rawValue, s.outcome?.key.rawValue])
        case .action(let s):
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO action (id, called_k, kind, kind_k, starts_at, starts_at_k, hours, hours_k,
                    demands, demands_k, text, text_k)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    s.id.rawValue, s.called?.rawValue, s.kind?.value.rawValue, s.kind?.key.rawValue,
                    s.startsAt?.value.text, s.startsAt?.key.rawValue, s.hours?.value, s.hours?.key.rawValue,
                    s.demands.map { encodeSlugs($0.value) }, s.demands?.key.rawValue, s.text?.value, s.text?.key.rawValue,
                ])
        case .participation(let s):
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO participation (action, workplace, joined_k, participants, participants_k)
                VALUES (?, ?, ?, ?, ?)
                """).execute(arguments: [
                    s.action.rawValue, s.workplace.rawValue, s.joined?.rawValue, s.participants?.value, s.participants?.key.rawValue,
                ])
        }
    }

    static func delete(_ db: Database, _ subject: Subject) throws {
        switch subject {
        case .workplace(let id): try db.cachedStatement(sql: "DELETE FROM workplace WHERE id = ?").execute(arguments: [id.rawValue])
        case .council(let id): try db.cachedStatement(sql: "DELETE FROM council WHERE id = ?").execute(arguments: [id.rawValue])
        case .delegate(let id): try db.cachedStatement(sql: "DELETE FROM delegate WHERE id = ?").execute(arguments: [id.rawValue])
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

    private static func key(_ text: String?) -> OrderKey? { text.map(OrderKey.init(rawValue:)) }

    /// A value at `index` and its order key in the next column.
    private static func stamped<V: DatabaseValueConvertible & Sendable & Equatable>(_ row: Row, _ index: Int) -> Stamped<V>? {
        guard let key = key(row[index + 1]), let value: V = row[index] else { return nil }
        return Stamped(value, at: key)
    }

    private static func stampedEnum<E: RawRepresentable & Sendable & Equatable>(_ row: Row, _ index: Int) -> Stamped<E>? where E.RawValue == String {
        guard let key = key(row[index + 1]), let text: String = row[index], let value = E(rawValue: text) else { return nil }
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
