import GRDB
import StrikeCore

extension Store {
    /// The tables the fold derives from the applied messages, each read in a
    /// canonical order: what `dump()` and the state digest both cover. A new
    /// derived table is added here.
    static let foldTables: [(name: String, sql: String)] = [
        ("workplace", "SELECT * FROM workplace ORDER BY id"),
        ("council", "SELECT * FROM council ORDER BY id"),
        ("delegate", "SELECT * FROM delegate ORDER BY id"),
        ("mandate", "SELECT * FROM mandate ORDER BY delegate, council"),
        ("demand", "SELECT * FROM demand ORDER BY id"),
        ("support", "SELECT * FROM support ORDER BY demand, workplace"),
        ("outcome", "SELECT * FROM outcome ORDER BY demand, workplace"),
        ("action", "SELECT * FROM action ORDER BY id"),
        ("participation", "SELECT * FROM participation ORDER BY action, workplace"),
    ]

    /// A complete, deterministic text dump of the state: every table that the
    /// reconciliation contract defines, sorted, without what depends on arrival
    /// (first-seen times, the source of the first copy, the spool's ledger).
    /// Two stores that received the same copies in any order dump the same text.
    public func dump() throws(StoreError) -> String {
        try read { db in
            var out = ""
            let tables: [(name: String, sql: String)] = [
                // Not the arrival-dependent rowids: a version is its hash.
                ("version", "SELECT hex(hash), origin, seq, state, code, detail, body FROM version ORDER BY hash"),
                ("message", "SELECT m.origin, m.seq, m.k, m.type, m.subject, hex(v.hash), m.report FROM message m JOIN version v ON v.id = m.version ORDER BY m.origin, m.seq"),
                ("report", "SELECT body, k, origin, seq, type, subject FROM report ORDER BY body, k"),
                ("entity", "SELECT kind, id, messages FROM entity ORDER BY kind, id"),
                ("arrival", "SELECT origin, seq FROM arrival ORDER BY origin, seq"),
                ("tally", "SELECT name, value FROM tally WHERE value <> 0 ORDER BY name"),
            ] + Store.foldTables
            for (name, sql) in tables {
                out += "# \(name)\n"
                for row in try Row.fetchAll(db, sql: sql) {
                    out += row.databaseValues.map { $0.isNull ? "∅" : "\($0)" }.joined(separator: " | ") + "\n"
                }
            }
            return out
        }
    }

    /// How many applied messages (reports from other origins aside) name each entity ("kind/id"), from the
    /// `entity` table the reconciler keeps or, `recomputed`, from the applied
    /// messages themselves. Tests compare the two to prove the counts never drift.
    public func entityCounts(recomputed: Bool) throws(StoreError) -> [String: Int64] {
        try read { db in
            var counts: [String: Int64] = [:]
            if recomputed {
                // Reports from other origins name nothing.
                for body in try String.fetchAll(db, sql: "SELECT v.body FROM message m JOIN version v ON v.id = m.version WHERE m.report = 0") {
                    guard let message = MessageReader.read(Array(body.utf8), policy: .stored).message else {
                        throw StoreError.corrupt("a stored message no longer validates")
                    }
                    for ref in message.references { counts["\(ref.kind.rawValue)/\(ref.id)", default: 0] += 1 }
                }
            } else {
                for row in try Row.fetchAll(db, sql: "SELECT kind, id, messages FROM entity") {
                    counts["\(row[0] as String)/\(row[1] as String)"] = row[2]
                }
            }
            return counts
        }
    }

    /// Recomputes the Summary from the tables, ignoring the running tallies.
    /// Tests compare it with `summary()` to prove the tallies never drift.
    public func recomputedSummary() throws(StoreError) -> Summary {
        try read { db in
            func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
            var s = Summary()
            s.workplaces = try count("SELECT count(*) FROM workplace WHERE reported_k IS NOT NULL")
            let striking = "status IN ('strike', 'partial', 'go-slow', 'work-to-rule')"
            s.striking = try count("SELECT count(*) FROM workplace WHERE \(striking)")
            s.participants = try count("SELECT coalesce(sum(participants), 0) FROM workplace WHERE \(striking)")
            for status in DelegateStatus.allCases {
                let n = try count("SELECT count(*) FROM delegate WHERE status = '\(status.rawValue)'")
                switch status {
                case .active: s.delegates.active = n
                case .detained: s.delegates.detained = n
                case .missing: s.delegates.missing = n
                case .exiled: s.delegates.exiled = n
                case .recalled: s.delegates.recalled = n
                case .resigned: s.delegates.resigned = n
                }
            }
            s.mandates.active = try count("SELECT count(*) FROM mandate WHERE status = 'active'")
            s.mandates.recalled = try count("SELECT count(*) FROM mandate WHERE status = 'recalled'")
            s.mandates.resigned = try count("SELECT count(*) FROM mandate WHERE status = 'resigned'")
            s.demands.economic = try count("SELECT count(*) FROM demand WHERE category = 'economic'")
            s.demands.democratic = try count("SELECT count(*) FROM demand WHERE category = 'democratic'")
            s.messages.applied = try count("SELECT count(*) FROM message")
            s.messages.rejected = try count("SELECT count(*) FROM version WHERE state <> 'applied'")
            s.messages.duplicates = try count("SELECT coalesce((SELECT value FROM tally WHERE name = 'duplicates'), 0)")
            return s
        }
    }
}
