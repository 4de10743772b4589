import CSQLiteSettings
import Foundation
import GRDB
import StrikeCore

/// Errors of the store that cross module boundaries.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        /// The database cannot be opened or created (path, permissions).
        case open
        /// The database is busy or locked by another process beyond the timeout.
        case busy
        /// The disk is full.
        case full
        /// Stored data contradicts the schema's meaning: a bug or tampering.
        case corrupt
        /// Any other SQLite failure.
        case other
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    static func corrupt(_ detail: String) -> StoreError { StoreError(.corrupt, detail) }

    /// Environment trouble that should be retried, never blamed on the input.
    public var isTransient: Bool { code == .busy || code == .full }

    public var description: String { detail }

    /// Classifies any error thrown by GRDB.
    public static func from(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED: return StoreError(.busy, "the database is locked by another process: \(error.message ?? "busy")")
            case .SQLITE_FULL: return StoreError(.full, "the disk holding the database is full")
            case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH:
                return StoreError(.open, "cannot open the database for writing: \(error.message ?? "\(error.resultCode)")")
            case .SQLITE_IOERR:
                // SQLITE_IOERR_WRITE etc. are how a full disk often shows up in WAL mode.
                return StoreError(.full, "the database could not be written (disk full or I/O error): \(error.message ?? "I/O error")")
            case .SQLITE_CORRUPT, .SQLITE_NOTADB: return StoreError(.corrupt, "the database file is damaged or not a strikecd database: \(error.message ?? "")")
            default: return StoreError(.other, "database error: \(error)")
            }
        }
        return StoreError(.other, "\(error)")
    }
}

/// The state in SQLite: one file, WAL mode, safe to share between the daemon
/// and a one-shot `strikecd ingest` (writers wait for each other).
///
/// Use `write(_:)` with a `Reconciler` to change the state; use the query
/// methods to read it. Reads never block ingestion (WAL readers).
public final class Store: Sendable {
    public let path: String
    let pool: DatabasePool
    /// `readNow`'s connections, one per calling thread.
    let threadReaders: ThreadReaders

    /// Opens (creating if needed) the database at `path` and migrates it.
    ///
    /// - Parameter busyTimeout: how long a writer waits for another process's
    ///   transaction before `StoreError(.busy)`.
    public init(path: String, busyTimeout: Double = 30) throws(StoreError) {
        _ = Self.processSettings
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.foreignKeysEnabled = true
        config.label = "strikecd"
        // GRDB's default, .userInitiated, has libdispatch give each new worker
        // thread of its queues nice -2, which the daemon may not take under
        // systemd (EACCES, logged as "Failed to set thread priority for worker
        // thread"); reads and writes gain nothing from it on Linux.
        config.qos = .default
        config.prepareDatabase { db in
            // Keep temporary b-trees in memory: the state directory may be the
            // only writable place under systemd's ProtectSystem=strict.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // setUpWALMode() sets synchronous=NORMAL on the writer after
            // prepareDatabase; FULL makes every COMMIT durable before the spool
            // deletes a file it accounted for.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                // The writer touches index pages all over the store (identities
                // are hashes); 16 MiB of page cache instead of SQLite's 2 MiB
                // halved the time to ingest 100,000 files (docs/performance.md).
                // Readers keep the default, so memory stays small.
                try db.execute(sql: "PRAGMA cache_size = -16384")
            }
            let migrator = Schema.migrator
            try pool.read { db in try Self.checkUsable(db, migrator: migrator, path: path) }
            try migrator.migrate(pool)
        } catch {
            throw StoreError.from(error)
        }
        threadReaders = ThreadReaders(path: path, configuration: config)
    }

    /// Refuses, before anything is written, a database that a newer
    /// strikecd has migrated (its schema has changes this version does not
    /// know, and this version would write rows that break them) and one
    /// with damaged pages (PRAGMA quick_check): either would otherwise be
    /// used until a query or a commit hit the damage, for ever after.
    static func checkUsable(_ db: Database, migrator: DatabaseMigrator, path: String) throws {
        let unknown = try migrator.appliedIdentifiers(db).subtracting(Schema.migrationIdentifiers).sorted()
        if !unknown.isEmpty {
            throw StoreError(.open, """
                \(path) was updated by a newer strikecd (schema changes \(unknown.joined(separator: ", ")), unknown to \
                this version): run that version, or a copy of the database made before the update
                """)
        }
        let problems = try String.fetchAll(db, sql: "PRAGMA quick_check(5)")
        if problems != ["ok"] {
            throw StoreError.corrupt("""
                \(path) is damaged (SQLite's quick_check: \(problems.joined(separator: "; "))): stop using it; \
                restore the last copy (strikecd(8), BACKUP), or recover what can be read with `sqlite3 \(path) .recover`
                """)
        }
    }

    deinit {
        // The readers close before the pool, so that the writer's connection
        // is the last one and, closing, checkpoints the WAL into the file.
        threadReaders.releaseMemory()
    }

    /// SQLite's process-wide settings, made once, before the first
    /// connection: no memory statistics. With them on (Debian's build), every
    /// allocation SQLite makes takes a global mutex; they were 3.4 % of the
    /// writer's samples and nothing reads them (docs/performance.md). Had
    /// SQLite been used already in this process (a test's own connection),
    /// this changes nothing.
    private static let processSettings: Void = {
        _ = strikecd_sqlite_statistics_off()
    }()

    /// Frees SQLite's page caches (the writer's, and the readers', which are
    /// closed and reopened on demand). For an idle daemon: the caches fill
    /// again as work comes in.
    public func releaseMemory() {
        pool.releaseMemory()
        threadReaders.releaseMemory()
    }

    /// Closes the store at a graceful stop, once nothing uses it any more:
    /// every connection, the writer's last. SQLite then copies the WAL into
    /// the database file and removes `-wal` and `-shm` (unless another
    /// process still has the database open), so that a stopped daemon leaves
    /// one self-contained file: copying `state.sqlite` alone copies
    /// everything. Afterwards every use of the store fails.
    public func close() throws(StoreError) {
        threadReaders.close()
        // The pool's idle readers first (none is busy at a stop), so that
        // the writer is the last connection; GRDB's close() would close the
        // writer before its readers.
        pool.releaseMemory()
        do {
            try pool.close()
        } catch {
            throw StoreError.from(error)
        }
    }

    /// Runs `body` in one IMMEDIATE write transaction, committed durably when
    /// it returns and rolled back when it throws. SQLite's errors come out as
    /// `StoreError`; an error thrown by `body` itself comes out unchanged.
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.write(body)
        } catch let error as DatabaseError {
            throw StoreError.from(error)
        }
    }

    /// Runs `body` on a consistent snapshot.
    public func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.read(body)
        } catch {
            throw StoreError.from(error)
        }
    }

    /// Reconciles a batch of copies in one transaction.
    ///
    /// - Parameter speakers: what every origin speaks for: the
    ///   `SignatureRules.speakers` of the rules the copies were read under.
    public func ingest(_ copies: [CopyInput], now: Int64, speakers: Speakers = .everyone) throws(StoreError) -> (outcomes: [CopyOutcome], events: [ReconcileEvent]) {
        do {
            return try ingestUnmapped(copies, now: now, speakers: speakers)
        } catch {
            throw StoreError.from(error)
        }
    }

    private func ingestUnmapped(_ copies: [CopyInput], now: Int64, speakers: Speakers) throws -> (outcomes: [CopyOutcome], events: [ReconcileEvent]) {
        try write { db in try Self.reconcile(copies, in: db, now: now, speakers: speakers) }
    }

    /// Brings the state to new scopes (a reload, a start with another
    /// keyring): the messages whose origin's scopes changed are judged
    /// again and their subjects folded again, in one transaction. Returns
    /// how many messages moved in or out of scope and how many subjects were
    /// folded again; (0, 0) when the state was folded under these already.
    public func adoptScopes(_ speakers: Speakers, now: Int64) throws(StoreError) -> (messages: Int, subjects: Int) {
        do {
            return try write { db in
                var reconciler = Reconciler(db, now: now, speakers: speakers)
                try reconciler.adoptScopes()
                try reconciler.finish()
                for case .rescoped(let messages, let subjects) in reconciler.events { return (messages, subjects) }
                return (0, 0)
            }
        } catch {
            throw StoreError.from(error)
        }
    }

    /// The body of one ingest transaction, shared by the blocking and async forms.
    static func reconcile(_ copies: [CopyInput], in db: Database, now: Int64, speakers: Speakers) throws -> (outcomes: [CopyOutcome], events: [ReconcileEvent]) {
        var reconciler = Reconciler(db, now: now, speakers: speakers)
        var outcomes = [CopyOutcome](repeating: .duplicate, count: copies.count)
        for position in Reconciler.localityOrder(copies.map(\.reading.envelope)) {
            outcomes[position] = try reconciler.ingest(copies[position])
        }
        try reconciler.finish()
        return (outcomes, reconciler.events)
    }

    /// The Summary of docs/protocol.md, from the running tallies.
    public func summary() throws(StoreError) -> Summary {
        try read { db in try Self.summary(db) }
    }

    static func summary(_ db: Database) throws -> Summary {
        var summary = Summary()
        // Positional reads of a prepared statement: through GRDB's rows and a
        // dictionary this read took as long as the rest of a Summary call.
        let statement = try DirectStatement(cached: db, sql: "SELECT name, value FROM tally")
        defer { statement.reset() }
        while try statement.step() {
            let value = Int(truncatingIfNeeded: statement.int64(1))
            switch statement.string(0) {
            case "workplaces": summary.workplaces = value
            case "striking": summary.striking = value
            case "participants": summary.participants = value
            case "active": summary.delegates.active = value
            case "detained": summary.delegates.detained = value
            case "missing": summary.delegates.missing = value
            case "recalled": summary.delegates.recalled = value
            case "resigned": summary.delegates.resigned = value
            case "exiled": summary.delegates.exiled = value
            case "mandates_active": summary.mandates.active = value
            case "mandates_recalled": summary.mandates.recalled = value
            case "mandates_resigned": summary.mandates.resigned = value
            case "economic": summary.demands.economic = value
            case "democratic": summary.demands.democratic = value
            case "applied": summary.messages.applied = value
            case "duplicates": summary.messages.duplicates = value
            case "rejected": summary.messages.rejected = value
            default: break
            }
        }
        return summary
    }
}
