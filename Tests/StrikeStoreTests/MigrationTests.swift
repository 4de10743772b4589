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
}
