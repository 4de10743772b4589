import GRDB

/// A spool file's row in the ledger (see Schema, `spool_file`).
public struct LedgerEntry: Sendable, Equatable {
    public enum Disposition: String, Sendable {
        /// Every copy is accounted for: unlink the file.
        case remove
        /// The file is one rejected copy: move it to quarantine/ with its reason.
        case quarantine
    }

    public var name: String
    public var device: UInt64
    public var inode: UInt64
    public var ctime: Int64
    public var doneBytes: Int64
    public var linesDone: Int
    public var disposition: Disposition?
    public var code: String?
    public var detail: String?
    public var sha256: String?
    public var size: Int64?

    public init(name: String, device: UInt64, inode: UInt64, ctime: Int64, doneBytes: Int64 = 0, linesDone: Int = 0) {
        self.name = name
        self.device = device
        self.inode = inode
        self.ctime = ctime
        self.doneBytes = doneBytes
        self.linesDone = linesDone
    }
}

/// The ledger, used inside the same write transaction as the `Reconciler`.
public enum SpoolLedger {
    public static func entry(_ db: Database, name: String) throws -> LedgerEntry? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM spool_file WHERE name = ?"), arguments: [name]) else {
            return nil
        }
        var entry = LedgerEntry(
            name: row["name"], device: UInt64(bitPattern: row["device"]), inode: UInt64(bitPattern: row["inode"]),
            ctime: row["ctime"], doneBytes: row["done_bytes"], linesDone: row["lines_done"]
        )
        entry.disposition = (row["disposition"] as String?).flatMap(LedgerEntry.Disposition.init(rawValue:))
        entry.code = row["code"]
        entry.detail = row["detail"]
        entry.sha256 = row["sha256"]
        entry.size = row["size"]
        return entry
    }

    public static func save(_ db: Database, _ entry: LedgerEntry) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO spool_file (name, device, inode, ctime, done_bytes, lines_done, disposition, code, detail, sha256, size)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                entry.name, Int64(bitPattern: entry.device), Int64(bitPattern: entry.inode), entry.ctime, entry.doneBytes, entry.linesDone,
                entry.disposition?.rawValue, entry.code, entry.detail, entry.sha256, entry.size,
            ])
    }

    public static func delete(_ db: Database, names: some Sequence<String>) throws {
        let statement = try db.cachedStatement(sql: "DELETE FROM spool_file WHERE name = ?")
        for name in names { try statement.execute(arguments: [name]) }
    }

    /// Every entry, for the start-up pass that finishes interrupted work.
    public static func all(_ db: Database) throws -> [LedgerEntry] {
        try String.fetchAll(db, sql: "SELECT name FROM spool_file ORDER BY name").compactMap { try entry(db, name: $0) }
    }
}
