import Foundation
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

    /// A store a newer strikecd migrated has schema changes this version
    /// does not know: it is refused, with what to do, before anything is written.
    @Test func aStoreMigratedByANewerVersionIsRefused() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/state.sqlite"
        try Store(path: path).close()
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99')") }
        }
        let error = #expect(throws: StoreError.self) { try Store(path: path) }
        #expect(error?.detail.contains("updated by a newer strikecd (schema changes v99") == true, "\(String(describing: error))")
    }

    /// A store with damaged pages is refused at start, naming the damage,
    /// instead of being used until a query or a commit reaches it.
    @Test func aStoreWithDamagedPagesIsRefused() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/state.sqlite"
        do {
            let store = try Store(path: path)
            try store.write { db in
                // Pages enough that the last ones hold only this table's rows.
                try db.execute(sql: "CREATE TABLE filler (n INTEGER PRIMARY KEY, text TEXT NOT NULL)")
                for n in 0..<2000 {
                    try db.execute(sql: "INSERT INTO filler (n, text) VALUES (?, ?)", arguments: [n, String(repeating: "x", count: 200)])
                }
            }
            try store.close()
        }
        // Scribble over the second-to-last page, as a failing disk might.
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size - 2 * 4096 + 16)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 2048))
        try handle.close()
        let error = #expect(throws: StoreError.self) { try Store(path: path) }
        #expect(error?.code == .corrupt, "\(String(describing: error))")
        #expect(error?.detail.contains("is damaged") == true || error?.detail.contains("damaged or not a strikecd database") == true, "\(String(describing: error))")
    }
}
