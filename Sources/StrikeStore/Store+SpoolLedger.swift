import Foundation
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
    /// For a `.jsonl`: SHA-256 (hex) of its first `doneBytes` bytes, and its
    /// size when it was last opened. A file is resumed at `doneBytes` only
    /// while those bytes are still there: one rewritten in place, or a new
    /// file that took the name and the inode, is read afresh.
    public var prefixSHA256: String?
    public var openedSize: Int64?

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
        entry.prefixSHA256 = row["prefix_sha256"]
        entry.openedSize = row["opened_size"]
        return entry
    }

    /// Every entry, for the start-up pass that finishes interrupted work.
    public static func all(_ db: Database) throws -> [LedgerEntry] {
        try String.fetchAll(db, sql: "SELECT name FROM spool_file ORDER BY name").compactMap { try entry(db, name: $0) }
    }
}

/// The ledger's per-file statements within one write transaction, bound and
/// stepped through SQLite's C API (`DirectStatement`): a drop of one-message
/// files saves and later deletes a row per file, which through GRDB's
/// arguments cost more than the rows themselves.
public struct LedgerWriter: ~Copyable {
    private let db: Database
    private var saveStatement: DirectStatement?
    private var deleteStatement: DirectStatement?

    /// For the transaction `db` is in; do not keep it past that transaction.
    public init(_ db: Database) {
        self.db = db
    }

    /// Records `entry` (replacing the file's earlier row).
    public mutating func save(_ entry: LedgerEntry) throws {
        if saveStatement == nil {
            saveStatement = try DirectStatement(db, sql: """
                INSERT OR REPLACE INTO spool_file
                    (name, device, inode, ctime, done_bytes, lines_done, disposition, code, detail, sha256, size, prefix_sha256, opened_size)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        }
        let s = saveStatement!
        s.reset()
        s.bind(1, entry.name)
        s.bind(2, Int64(bitPattern: entry.device))
        s.bind(3, Int64(bitPattern: entry.inode))
        s.bind(4, entry.ctime)
        s.bind(5, entry.doneBytes)
        s.bind(6, entry.linesDone)
        s.bind(7, entry.disposition?.rawValue)
        s.bind(8, entry.code)
        s.bind(9, entry.detail)
        s.bind(10, entry.sha256)
        s.bind(11, entry.size)
        s.bind(12, entry.prefixSHA256)
        s.bind(13, entry.openedSize)
        try s.execute()
    }

    /// Forgets the rows of files that are gone from the spool.
    public mutating func delete(names: some Sequence<String>) throws {
        if deleteStatement == nil {
            deleteStatement = try DirectStatement(db, sql: "DELETE FROM spool_file WHERE name = ?")
        }
        let s = deleteStatement!
        for name in names {
            s.reset()
            s.bind(1, name)
            try s.execute()
        }
    }
}

/// A bad line of a `.jsonl`, counted but not yet written into quarantine/.
public struct PendingLine: Sendable, Equatable {
    public var id: Int64 = 0
    public var file: String
    public var line: Int
    public var code: String
    public var detail: String
    public var bytes: [UInt8]?
    public var sha256: String?
    public var size: Int64?
    /// RFC 3339 UTC, when it was counted.
    public var time: String

    public init(file: String, line: Int, code: String, detail: String, bytes: [UInt8]?, sha256: String?, size: Int64?, time: String) {
        self.file = file
        self.line = line
        self.code = code
        self.detail = detail
        self.bytes = bytes
        self.sha256 = sha256
        self.size = size
        self.time = time
    }
}

extension SpoolLedger {
    /// Records a bad line in the current transaction; returns it with its id.
    public static func addPending(_ db: Database, _ line: PendingLine) throws -> PendingLine {
        try db.cachedStatement(sql: """
            INSERT INTO pending_quarantine (file, line, code, detail, bytes, sha256, size, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                line.file, line.line, line.code, line.detail, line.bytes.map { Data($0) }, line.sha256, line.size, line.time,
            ])
        var recorded = line
        recorded.id = db.lastInsertedRowID
        return recorded
    }

    /// Every bad line still to be written (after a crash).
    public static func pendingLines(_ db: Database) throws -> [PendingLine] {
        try Row.fetchAll(db, sql: "SELECT * FROM pending_quarantine ORDER BY id").map { row in
            var line = PendingLine(
                file: row["file"], line: row["line"], code: row["code"], detail: row["detail"],
                bytes: (row["bytes"] as Data?).map { Array($0) }, sha256: row["sha256"], size: row["size"], time: row["time"]
            )
            line.id = row["id"]
            return line
        }
    }

    public static func deletePending(_ db: Database, ids: some Sequence<Int64>) throws {
        let statement = try db.cachedStatement(sql: "DELETE FROM pending_quarantine WHERE id = ?")
        for id in ids { try statement.execute(arguments: [id]) }
    }
}
