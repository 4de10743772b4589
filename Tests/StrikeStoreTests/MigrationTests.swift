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
        // At v3 itself: v4-mandates replaces the delegate table and its index.
        let v3 = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(v3, upTo: "v3")
        let indexes = try await v3.read { db in
            try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name LIKE '%_workplace'")
                .map { ($0["name"] as String, $0["sql"] as String) }
        }
        #expect(indexes.first { $0.0 == "support_workplace" }?.1.contains("votes_abstain") == true, "\(indexes)")
        #expect(indexes.first { $0.0 == "delegate_workplace" }?.1.contains("status") == true, "\(indexes)")
        let store = try Store(path: path)
        let mtz = try #require(try await store.getWorkplace("mtz"))
        // The hand-made delegate row had no messages: v4-mandates folds
        // delegates from their messages, so none is left.
        #expect(mtz.delegates == [])
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

    /// v4-mandates: a store made by v3's code (its delegate rows and tallies
    /// by v1's rules) holds, after the migration, exactly what the new rules
    /// give for its applied messages: the same as a fresh ingest of them.
    @Test func delegatesAreFoldedAgainByTheNewRules() async throws {
        let votes: JSONValue = .record(["for": 40, "against": 3])
        let messages = [
            message("mtz", 1, "delegate.elected", ["delegate": "rook", "workplace": "mtz", "council": "city", "votes": votes],
                    sentAt: "2020-08-20T09:00:00+03:00"),
            message("mtz", 2, "delegate.recalled", ["delegate": "rook", "workplace": "mtz", "votes": votes],
                    sentAt: "2020-08-21T09:00:00+03:00"),
            message("city", 1, "delegate.status", ["delegate": "rook", "status": "detained"], sentAt: "2020-08-22T09:00:00+03:00"),
            message("city", 2, "delegate.status", ["delegate": "rook", "status": "released"], sentAt: "2020-08-23T09:00:00+03:00"),
            message("bmz", 1, "delegate.elected", ["delegate": "wren", "workplace": "bmz", "council": "city", "votes": votes]),
            message("bmz", 2, "delegate.elected", ["delegate": "wren", "workplace": "bmz", "council": "region", "votes": votes],
                    sentAt: "2020-08-25T09:00:00+03:00"),
            message("bmz", 3, "delegate.status", ["delegate": "wren", "status": "resigned"], sentAt: "2020-08-26T09:00:00+03:00"),
            message("azot", 1, "delegate.status", ["delegate": "finch", "status": "missing"]),
        ].map { MessageReader.read($0, policy: .stored).message! }
        let directory = TemporaryDirectory()
        let path = directory.path + "/v3.sqlite"
        do {
            // What v3's strikecd wrote for these messages: versions, messages,
            // entities, and the delegate rows and tallies of v1's rules (rook
            // active again after his release; wren resigned in one council).
            let queue = try DatabaseQueue(path: path)
            try Schema.migrator.migrate(queue, upTo: "v3")
            try await queue.write { db in
                for message in messages {
                    try db.execute(sql: """
                        INSERT INTO version (hash, origin, seq, state, body, first_seen, source)
                        VALUES (?, ?, ?, 'applied', ?, 1700000000, 'old')
                        """, arguments: [Reconciler.hash(.value(message.content)), message.origin.rawValue, message.seq,
                                         String(decoding: message.canonical, as: UTF8.self)])
                    try db.execute(sql: "INSERT INTO message (origin, seq, k, type, subject, version) VALUES (?, ?, ?, ?, ?, ?)",
                                   arguments: [message.origin.rawValue, message.seq, message.key.rawValue, message.type.rawValue,
                                               message.subject.key, db.lastInsertedRowID])
                    try db.execute(sql: "INSERT INTO arrival (origin, seq) VALUES (?, ?)", arguments: [message.origin.rawValue, message.seq])
                    for ref in message.references {
                        try db.execute(sql: """
                            INSERT INTO entity (kind, id, messages) VALUES (?, ?, 1)
                            ON CONFLICT (kind, id) DO UPDATE SET messages = messages + 1
                            """, arguments: [ref.kind.rawValue, ref.id.rawValue])
                    }
                }
                try db.execute(sql: """
                    INSERT INTO delegate (id, workplace, council, election_k, status, status_k) VALUES
                        ('rook', 'mtz', 'city', ?, 'active', ?),
                        ('wren', 'bmz', 'region', ?, 'resigned', ?),
                        ('finch', NULL, NULL, NULL, 'missing', ?);
                    INSERT INTO tally (name, value) VALUES ('applied', 8), ('active', 1), ('resigned', 1);
                    """, arguments: [messages[0].key.rawValue, messages[3].key.rawValue, messages[5].key.rawValue,
                                     messages[6].key.rawValue, messages[7].key.rawValue])
            }
        }
        let migrated = try Store(path: path)
        let fresh = try Store(path: directory.path + "/fresh.sqlite")
        _ = try fresh.ingest(messages.map { CopyInput(reading: MessageReader.read($0.canonical, policy: .stored), source: "new") },
                             now: 1_700_000_000)
        let summary = try migrated.summary()
        #expect(summary == (try fresh.summary()))
        #expect(summary.delegates.recalled == 1 && summary.delegates.resigned == 1 && summary.delegates.active == 0)
        #expect(summary.mandates.recalled == 1 && summary.mandates.resigned == 2)
        let tables = { (store: Store) in
            try store.dump().split(separator: "# ").filter { $0.hasPrefix("delegate\n") || $0.hasPrefix("mandate\n") || $0.hasPrefix("tally\n") }
        }
        #expect(try tables(migrated) == tables(fresh))
        let rook = try #require(try await migrated.read(Store.getDelegate("rook")))
        #expect(rook.status == .recalled && rook.safety?.status == .free)
    }
}
