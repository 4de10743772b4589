import GRDB

/// One read of the store, made but not yet run: the caller chooses how to run
/// it, `Store.read` (async, for any thread) or `Store.readNow` (blocking).
///
/// The queries of Store+Queries.swift make these; `map` turns the result into
/// what the caller sends, inside the same read.
public struct StoreQuery<Value>: Sendable {
    let body: @Sendable (Database) throws -> Value

    init(_ body: @escaping @Sendable (Database) throws -> Value) {
        self.body = body
    }

    /// The same read, its result transformed on the reading thread.
    public func map<New>(_ transform: @escaping @Sendable (Value) -> New) -> StoreQuery<New> {
        let body = self.body
        return StoreQuery<New> { db in transform(try body(db)) }
    }
}

extension Store {
    /// Runs `query` on a reader connection without blocking the calling
    /// thread (GRDB's async read: a hop to its reader pool and back).
    public func read<Value: Sendable>(_ query: StoreQuery<Value>) async throws(QueryError) -> Value {
        do {
            return try await pool.read(query.body)
        } catch let error as QueryError {
            throw error
        } catch {
            throw .store(StoreError.from(error))
        }
    }

    /// Runs `query` on the calling thread's own read-only connection
    /// (`ThreadReaders`), which it waits for: no hand-off to another thread
    /// and no pool, so a short read costs microseconds.
    ///
    /// Use it only for reads whose work is bounded (index look-ups and a
    /// page of rows), from long-lived threads that may wait that long: the
    /// server's event loops or a thread of one's own. Each such thread keeps
    /// a connection open (and its page cache, until `releaseMemory()`).
    public func readNow<Value>(_ query: StoreQuery<Value>) throws(QueryError) -> Value {
        do {
            return try threadReaders.read(query.body)
        } catch let error as QueryError {
            throw error
        } catch {
            throw .store(StoreError.from(error))
        }
    }
}
