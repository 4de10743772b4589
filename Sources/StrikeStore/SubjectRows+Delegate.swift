import GRDB
import StrikeCore

// A delegate's state in two tables (schema v4-mandates):
// - `delegate`: one row per delegate: its Summary status (derived), its
//   safety, its greatest-key resignation, and the greatest-key recall by each
//   body (`recalls`, rare, as lines);
// - `mandate`: one row per (delegate, council): the body that gave it (the
//   greatest-key election's), its status (derived), and the greatest-key
//   election of every other body that elected the delegate there (`others`,
//   irregular, as lines).
// The derived columns are what queries filter and join on; the fold reads
// only the stamped ones. A list column holds one `kind body key` line per
// entry; slugs and keys hold no newline, and the key, last, may hold spaces.
extension SubjectRows {
    mutating func loadDelegate(_ id: Slug) throws -> DelegateState {
        var state = DelegateState(id: id)
        let d = try statement(.load(.delegate), """
            SELECT safety, safety_until, safety_k, resigned_k, recalls FROM delegate WHERE id = ?
            """)
        d.bind(1, id.rawValue)
        if try d.step() {
            if let key = Self.key(d, 2), let status = d.string(0).flatMap(SafetyStatus.init(rawValue:)) {
                state.safety = Stamped(.init(status: status, until: d.string(1).flatMap(CalendarDate.init)), at: key)
            }
            state.resigned = Self.key(d, 3)
            for (body, key) in try Self.decodeEntries(d.string(4)) {
                state.recalls[body] = key
            }
        }
        d.reset()
        let m = try statement(.load(.mandate), """
            SELECT council, body_kind, body, election_k, others FROM mandate WHERE delegate = ?
            """)
        m.bind(1, id.rawValue)
        while try m.step() {
            guard let council = Slug(m.string(0)), let bodyID = Slug(m.string(2)),
                  let body = ElectingBody(kind: m.string(1) ?? "", id: bodyID), let key = Self.key(m, 3) else {
                m.reset()
                throw StoreError.corrupt("a mandate row of delegate \(id) does not read back")
            }
            var mandate = DelegateState.Mandate()
            mandate.elections[body] = key
            for (other, otherKey) in try Self.decodeEntries(m.string(4)) {
                mandate.elections[other] = otherKey
            }
            state.mandates[council] = mandate
        }
        m.reset()
        return state
    }

    mutating func saveDelegate(_ v: DelegateState, before: DelegateState) throws {
        let d = try statement(.save(.delegate), """
            INSERT OR REPLACE INTO delegate (id, status, safety, safety_until, safety_k, resigned_k, recalls)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        d.bind(1, v.id.rawValue)
        d.bind(2, v.status?.rawValue)
        d.bind(3, v.safety?.value.status.rawValue)
        d.bind(4, v.safety?.value.until?.text)
        d.bind(5, v.safety?.key.rawValue)
        d.bind(6, v.resigned?.rawValue)
        d.bind(7, Self.encodeEntries(v.recalls))
        try d.execute()
        // Every mandate row derives its status from the delegate's recalls and
        // resignation too: rewrite those whose row would read differently.
        for (council, mandate) in v.mandates {
            guard let giver = mandate.giver, let status = v.mandateStatus(council) else { continue }
            if let old = before.mandates[council], old == mandate, before.mandateStatus(council) == status { continue }
            var others = mandate.elections
            others[giver.value] = nil
            let m = try statement(.save(.mandate), """
                INSERT OR REPLACE INTO mandate (delegate, council, body_kind, body, election_k, status, status_k, others)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            m.bind(1, v.id.rawValue)
            m.bind(2, council.rawValue)
            m.bind(3, giver.value.kind)
            m.bind(4, giver.value.id.rawValue)
            m.bind(5, giver.key.rawValue)
            m.bind(6, status.value.rawValue)
            m.bind(7, status.key.rawValue)
            m.bind(8, Self.encodeEntries(others))
            try m.execute()
        }
        // Only a re-fold without a message (a conflict, a forget) loses a mandate.
        for council in before.mandates.keys where v.mandates[council] == nil {
            try db.cachedStatement(sql: "DELETE FROM mandate WHERE delegate = ? AND council = ?")
                .execute(arguments: [v.id.rawValue, council.rawValue])
        }
    }

    /// `kind body key` lines in body order; nil for none.
    static func encodeEntries(_ entries: [ElectingBody: OrderKey]) -> String? {
        guard !entries.isEmpty else { return nil }
        return entries.sorted { $0.key < $1.key }
            .map { "\($0.key.kind) \($0.key.id.rawValue) \($0.value.rawValue)" }
            .joined(separator: "\n")
    }

    static func decodeEntries(_ text: String?) throws -> [(ElectingBody, OrderKey)] {
        guard let text else { return [] }
        return try text.split(separator: "\n").map { line in
            let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard parts.count == 3, let id = Slug(parts[1]), let body = ElectingBody(kind: parts[0], id: id) else {
                throw StoreError.corrupt("a stored list of elections or recalls does not read back: \(line)")
            }
            return (body, OrderKey(rawValue: parts[2]))
        }
    }
}
