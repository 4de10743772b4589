import Foundation
import GRDB
import GRDBSQLite

/// SQLite's SQLITE_TRANSIENT (the C macro does not import): SQLite copies the
/// value before the bind call returns.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// A prepared statement of the per-copy path, bound, stepped and read through
/// SQLite's C API instead of GRDB's `execute(arguments:)` and `Row`.
///
/// Why: GRDB builds a `StatementArguments` array of existentials for every
/// call, checks it against the statement, binds through nested closures,
/// clears the bindings, and materialises each result row as a `Row` object;
/// for the dozen statements run per copy that was about a tenth of the
/// daemon's CPU (docs/performance.md). Here each value is bound in place
/// (text and blobs copied by SQLite, `SQLITE_TRANSIENT`, so no lifetime is
/// assumed) and columns are read where they lie.
///
/// Use it only for statements run many times per write transaction (the
/// reconciler's, the ledger's); everything else keeps GRDB's API, which
/// checks the argument count and feeds database observation (strikecd
/// registers no transaction observer, which is what makes bypassing it safe).
///
/// Errors are GRDB's: a failing step throws the `DatabaseError` GRDB throws
/// for it (the step's result code, the connection's message, the SQL), so
/// `StoreError.from` classifies SQLITE_FULL, SQLITE_BUSY and SQLITE_IOERR as
/// before and the spool backs off instead of blaming the input. Like GRDB,
/// it refuses to step once SQLite has rolled the transaction back on its own
/// (after SQLITE_FULL, for instance), so nothing is ever written outside the
/// transaction that also records the spool ledger. Hence: inside a
/// transaction only.
struct DirectStatement {
    /// Owns the `sqlite3_stmt` (finalized when the last copy goes). Made with
    /// `makeStatement`, not taken from GRDB's cache: a statement whose step
    /// failed is never handed back to GRDB, whose `reset()` would throw that
    /// old error again.
    private let statement: Statement
    private let handle: OpaquePointer
    private let connection: OpaquePointer

    init(_ db: Database, sql: String) throws {
        self.init(try db.makeStatement(sql: sql))
    }

    /// A statement from the connection's cache, for reads run on a long-lived
    /// connection (`ThreadReaders`): prepared once per connection. Safe only
    /// for SQL that is never also run through GRDB's API on that connection,
    /// so that GRDB never resets a statement whose step failed.
    init(cached db: Database, sql: String) throws {
        self.init(try db.cachedStatement(sql: sql))
        reset()
    }

    private init(_ statement: Statement) {
        self.statement = statement
        handle = statement.sqliteStatement
        connection = sqlite3_db_handle(handle)
    }

    /// Makes the statement ready for new bindings; call before binding.
    /// The result code of an earlier failed step, which `reset` repeats, was
    /// already thrown by that step.
    func reset() {
        sqlite3_reset(handle)
    }

    // MARK: - Binding (1-based, as SQLite numbers parameters)

    func bind(_ index: Int32, _ value: Int64) {
        check(sqlite3_bind_int64(handle, index, value))
    }

    func bind(_ index: Int32, _ value: Int64?) {
        if let value { bind(index, value) } else { bindNull(index) }
    }

    func bind(_ index: Int32, _ value: Int) {
        bind(index, Int64(value))
    }

    func bind(_ index: Int32, _ value: String) {
        var text = value
        text.withUTF8 { bindText(index, $0) }
    }

    func bind(_ index: Int32, _ value: String?) {
        if let value { bind(index, value) } else { bindNull(index) }
    }

    /// UTF-8 bytes as TEXT (a canonical body, already valid UTF-8).
    func bind(_ index: Int32, utf8 bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { bindText(index, $0) }
    }

    func bind(_ index: Int32, blob bytes: Data) {
        bytes.withUnsafeBytes { raw in
            // A null pointer would bind NULL, not an empty blob.
            check(raw.isEmpty ? sqlite3_bind_zeroblob(handle, index, 0)
                              : sqlite3_bind_blob(handle, index, raw.baseAddress, Int32(raw.count), transient))
        }
    }

    func bindNull(_ index: Int32) {
        check(sqlite3_bind_null(handle, index))
    }

    private func bindText(_ index: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
        // A null pointer would bind NULL, not an empty string.
        let code = bytes.isEmpty
            ? sqlite3_bind_text(handle, index, "", 0, transient)
            : bytes.withMemoryRebound(to: CChar.self) {
                sqlite3_bind_text(handle, index, $0.baseAddress, Int32($0.count), transient)
            }
        check(code)
    }

    /// Binding fails only on a wrong index or type (SQLITE_RANGE, SQLITE_MISUSE)
    /// or when SQLite cannot copy the value (SQLITE_NOMEM): a bug or an
    /// exhausted process, as GRDB treats it too.
    private func check(_ code: Int32) {
        guard code == SQLITE_OK else {
            fatalError("binding a parameter of \(statement.sql) failed: \(String(cString: sqlite3_errstr(code)))")
        }
    }

    // MARK: - Stepping

    /// Steps once: true when a row is ready to be read, false when done.
    func step() throws -> Bool {
        if sqlite3_get_autocommit(connection) != 0 {
            throw DatabaseError(resultCode: .SQLITE_ABORT, message: "Transaction was aborted", sql: statement.sql)
        }
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code:
            let message = String(cString: sqlite3_errmsg(connection))
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
    }

    /// Runs a statement that returns no rows (INSERT, UPDATE, DELETE).
    func execute() throws {
        while try step() {}
    }

    // MARK: - Reading the current row (0-based columns)

    func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    func int64OrNil(_ column: Int32) -> Int64? {
        isNull(column) ? nil : int64(column)
    }

    func string(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// Whether the column's text is exactly `literal` (no String made).
    func textEquals(_ column: Int32, _ literal: StaticString) -> Bool {
        guard let text = sqlite3_column_text(handle, column) else { return false }
        let count = Int(sqlite3_column_bytes(handle, column))
        return count == literal.utf8CodeUnitCount && memcmp(text, literal.utf8Start, count) == 0
    }

    /// Whether the column's blob is exactly `bytes` (no Data made).
    func blobEquals(_ column: Int32, _ bytes: Data) -> Bool {
        let blob = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count == bytes.count else { return false }
        guard count > 0, let blob else { return count == 0 }
        return bytes.withUnsafeBytes { memcmp(blob, $0.baseAddress!, count) == 0 }
    }
}
