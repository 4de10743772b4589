import GRDB
import StrikeCore

extension Store {
    /// `ingest(_:now:)` without blocking the calling thread: for callers on a
    /// NIO event loop or Swift's cooperative pool (e.g. `Admin.Submit`). It
    /// waits its turn for the one writer like every other transaction.
    public func ingestAsync(_ copies: [CopyInput], now: Int64) async throws(StoreError) -> (outcomes: [CopyOutcome], events: [ReconcileEvent]) {
        do {
            return try await pool.write { db in try Store.reconcile(copies, in: db, now: now) }
        } catch {
            throw StoreError.from(error)
        }
    }
}
