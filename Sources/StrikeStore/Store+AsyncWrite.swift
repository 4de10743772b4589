import Foundation
import GRDB
import StrikeCore

extension Store {
    /// `ingest(_:now:)` without blocking the calling thread: for callers on a
    /// NIO event loop or Swift's cooperative pool (e.g. `Admin.Submit`). It
    /// waits its turn for the one writer like every other transaction.
    public func ingestAsync(_ copies: [CopyInput], now: Int64, speakers: Speakers = .everyone) async throws(StoreError) -> (outcomes: [CopyOutcome], events: [ReconcileEvent]) {
        do {
            return try await pool.write { db in try Store.reconcile(copies, in: db, now: now, speakers: speakers) }
        } catch {
            throw StoreError.from(error)
        }
    }
}

extension Store {
    /// Forgets the rejected version whose identity hash is `hash` (an
    /// operator's decision against it, `Admin.Forget`), in one transaction.
    /// Returns nil when no rejected version has that hash; otherwise the
    /// events, which name a rival version that is applied again.
    public func forgetRejected(hash: Data, now: Int64, speakers: Speakers = .everyone) async throws(StoreError) -> [ReconcileEvent]? {
        do {
            return try await pool.write { db -> [ReconcileEvent]? in
                var reconciler = Reconciler(db, now: now, speakers: speakers)
                guard try reconciler.forgetRejected(hash: hash) else { return nil }
                try reconciler.finish()
                return reconciler.events
            }
        } catch {
            throw StoreError.from(error)
        }
    }
}
