#if canImport(Glibc)
import Glibc
#endif
import GRDB
import Synchronization

/// One read-only SQLite connection per thread that calls `Store.readNow`
/// (in the daemon: each of the server's event loops), kept open.
///
/// Why: GRDB's pool lends a reader through a lock, a semaphore and a
/// dispatch queue, and wraps each read in a transaction whose BEGIN it
/// parses anew; for a Summary that was most of the daemon's time per call
/// (docs/performance.md). A connection of the thread's own, with BEGIN and
/// COMMIT prepared once, costs a look-up in this table.
///
/// Each connection is a GRDB `DatabaseQueue`, so a connection found by
/// another thread (a thread id reused) is still used safely, one thread at
/// a time. Readers never block the writer, nor it them (WAL snapshots).
final class ThreadReaders: Sendable {
    private let path: String
    private let configuration: Configuration
    private let readers = Mutex<[UInt: DatabaseQueue]>([:])
    /// Set by `close()`: no connection is opened any more.
    private let closed = Atomic<Bool>(false)
    /// The most of the file each connection maps; beyond it SQLite reads.
    static let mapBytes = 1 << 30

    init(path: String, configuration: Configuration) {
        var configuration = configuration
        configuration.readonly = true
        configuration.label = (configuration.label ?? "store") + ".thread-reader"
        // Pages are read from a read-only mapping of the file instead of
        // copied in by a pread(2) each: a GetWorkplace touches eight pages
        // scattered over the store, and their system calls and copies were a
        // third of its time (docs/performance.md). The mapped pages are the
        // kernel's page cache, which pread(2) fills all the same: they count
        // in the daemon's RSS as file-backed pages, but cost no more memory,
        // and `releaseMemory()` unmaps them.
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA mmap_size = \(Self.mapBytes)")
        }
        self.path = path
        self.configuration = configuration
    }

    /// The calling thread's connection, opened on first use.
    func current() throws -> DatabaseQueue {
        let thread = UInt(pthread_self())
        if let reader = readers.withLock({ $0[thread] }) { return reader }
        if closed.load(ordering: .acquiring) {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the store is closed")
        }
        // Opened outside the lock: opening reads the file.
        let reader = try DatabaseQueue(path: path, configuration: configuration)
        return try readers.withLock { readers in
            if let raced = readers[thread] { return raced }
            // Closed meanwhile: this one is closed as it goes.
            if closed.load(ordering: .acquiring) {
                throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the store is closed")
            }
            readers[thread] = reader
            return reader
        }
    }

    /// Runs `body` in one read transaction on the calling thread's connection.
    func read<Value>(_ body: (Database) throws -> Value) throws -> Value {
        try current().inDatabase { db in
            try db.cachedStatement(sql: "BEGIN DEFERRED").execute()
            // A read transaction: committing and rolling back are the same,
            // and either ends the snapshot.
            defer { try? db.cachedStatement(sql: "COMMIT").execute() }
            return try body(db)
        }
    }

    /// Closes every connection (which frees its page cache and unmaps the
    /// file); each thread opens its own again on its next read. A connection
    /// in use is closed when that read ends.
    func releaseMemory() {
        // Taken out under the lock, closed as the array goes, outside it.
        let closing: [DatabaseQueue] = readers.withLock { readers in
            let all = Array(readers.values)
            readers = [:]
            return all
        }
        withExtendedLifetime(closing) {}
    }

    /// Closes every connection for good: a read after this throws.
    func close() {
        closed.store(true, ordering: .releasing)
        releaseMemory()
    }
}
