import Foundation
import GRDB
@testable import StrikeStore
import TestSupport
import Testing

/// The per-copy statements that bypass GRDB must fail as GRDB's would: the
/// same `DatabaseError` (so `StoreError` and the spool's back-off are
/// unchanged), the statement usable again, and never a write outside the
/// transaction once SQLite has ended it.
@Suite struct DirectStatementTests {
    @Test func aFailingStepThrowsGRDBsErrorAndTheStatementIsUsableAgain() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.path + "/state.db")
        try store.pool.write { db in
            let insert = try DirectStatement(db, sql: "INSERT INTO arrival (origin, seq) VALUES (?, ?)")
            insert.reset()
            insert.bind(1, "mtz")
            insert.bind(2, Int64(0))  // CHECK (seq >= 1)
            do {
                try insert.execute()
                Issue.record("a row that breaks a CHECK was inserted")
            } catch let error as DatabaseError {
                #expect(error.resultCode == .SQLITE_CONSTRAINT)
                #expect(StoreError.from(error).code == .other)
                #expect(error.sql?.contains("INSERT INTO arrival") == true)
            }
            insert.reset()
            insert.bind(1, "mtz")
            insert.bind(2, Int64(1))
            try insert.execute()

            let count = try DirectStatement(db, sql: "SELECT count(*), max(seq) FROM arrival WHERE origin = ?")
            count.reset()
            count.bind(1, "mtz")
            #expect(try count.step())
            #expect(count.int64(0) == 1 && count.int64OrNil(1) == 1)
            #expect(try count.step() == false)
        }
    }

    /// Once SQLite is out of the transaction (here: a ROLLBACK behind GRDB's
    /// back, as SQLite itself does after some errors), a step is refused
    /// with SQLITE_ABORT and writes nothing.
    @Test func noStepOutsideTheTransaction() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.path + "/state.db")
        try store.pool.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            let insert = try DirectStatement(db, sql: "INSERT INTO arrival (origin, seq) VALUES (?, ?)")
            try db.execute(sql: "ROLLBACK")
            insert.reset()
            insert.bind(1, "mtz")
            insert.bind(2, Int64(1))
            #expect(throws: DatabaseError.self) { try insert.execute() }
        }
        let rows = try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM arrival") }
        #expect(rows == 0)
    }
}
