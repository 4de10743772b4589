import GRDB
import StrikeCore
@testable import StrikeStore
import TestSupport
import Testing

/// Stores made by an earlier schema open with what they held.
@Suite struct MigrationTests {
    /// v2 turns v1's reference per (entity, message) into one row per entity
    /// with the number of messages that name it.
    @Test func referencesBecomeCountsPerEntity() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/v1.sqlite"
        do {
            var configuration = Configuration()
            // v1's rows only, without the messages they belong to.
            configuration.foreignKeysEnabled = false
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try Schema.migrator.migrate(queue, upTo: "v1")
            try queue.write { db in
                try db.execute(sql: """
                    INSERT INTO ref (kind, id, origin, seq) VALUES
                        ('workplace', 'tractor-works', 'a', 1), ('workplace', 'tractor-works', 'a', 2),
                        ('workplace', 'tractor-works', 'b', 7), ('demand', 'new-elections', 'a', 2),
                        ('council', 'city-strike-council', 'b', 7)
                    """)
            }
        }
        let store = try Store(path: path)
        #expect(try store.entityCounts(recomputed: false) == [
            "workplace/tractor-works": 3, "demand/new-elections": 1, "council/city-strike-council": 1,
        ])
        let tables = try store.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        #expect(!tables.contains("ref"))
        #expect(tables.contains("entity"))
    }

    /// v3 widens the indexes on `workplace`; a v2 store keeps its rows, and
    /// GetWorkplace reads them through the new indexes.
    @Test func workplaceIndexesHoldWhatGetWorkplaceReads() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/v2.sqlite"
        do {
            let queue = try DatabaseQueue(path: path)
            try Schema.migrator.migrate(queue, upTo: "v2")
            try await queue.write { db in
                try db.execute(sql: """
                    INSERT INTO demand (id, text, category, proposal_k) VALUES ('wages', 'Restore the wage cuts', 'economic', 'k1');
                    INSERT INTO support (demand, workplace, votes_for, votes_against, votes_abstain, adoption_k)
                        VALUES ('wages', 'mtz', 40, 3, 2, 'k2');
                    INSERT INTO outcome (demand, workplace, outcome, outcome_k) VALUES ('wages', 'mtz', 'won', 'k3');
                    INSERT INTO delegate (id, workplace, council, election_k, status, status_k)
                        VALUES ('rook', 'mtz', 'city', 'k4', 'active', 'k4');
                    INSERT INTO entity (kind, id, messages) VALUES ('workplace', 'mtz', 4);
                    """)
            }
        }
        let store = try Store(path: path)
        let indexes = try store.read { db in
            try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name LIKE '%_workplace'")
                .map { ($0["name"] as String, $0["sql"] as String) }
        }
        #expect(indexes.first { $0.0 == "support_workplace" }?.1.contains("votes_abstain") == true, "\(indexes)")
        #expect(indexes.first { $0.0 == "delegate_workplace" }?.1.contains("status") == true, "\(indexes)")
        let mtz = try #require(try await store.getWorkplace("mtz"))
        #expect(mtz.delegates == [DelegateRecord(id: "rook", workplace: "mtz", council: "city", status: .active)])
        #expect(mtz.demands == [WorkplaceDemandRecord(demand: "wages", text: "Restore the wage cuts", category: .economic,
                                                      adopted: true, votes: Votes(for: 40, against: 3, abstain: 2), outcome: .won)])
    }
}
