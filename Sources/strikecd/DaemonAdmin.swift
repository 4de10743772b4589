import StrikeCore
import StrikeServer
import StrikeSpool
import StrikeStore

/// org.strikecd.Admin for the running daemon: Submit goes straight into the
/// store (one transaction, published to Watch); Requeue and Rescan go to the
/// spool loop, which owns the spool.
struct DaemonAdmin: AdminBackend {
    let submitter: StoreAdmin
    let spool: SpoolService
    let feed: ChangeFeed

    func submit(_ messages: [JSONValue], from peer: PeerCredentials) async throws(AdminFailure) -> [SubmitResult] {
        try await submitter.submit(messages, from: peer)
    }

    func requeue(_ name: String) async throws(AdminFailure) -> String {
        do {
            return try await spool.requeue(name)
        } catch {
            switch error {
            case .notFound(let name): throw .quarantinedFileNotFound(name, directory: spool.layout.quarantine)
            case .invalidName(let name): throw .failed("\"\(name)\" is not the name of a quarantined copy")
            case .reasonFile: throw .failed(error.description)
            case .trouble(let why): throw .failed(why)
            }
        }
    }

    func requeueRejected(hash: [UInt8]) async throws(AdminFailure) -> [String] {
        do {
            return try await spool.requeueRejected(hash: hash)
        } catch {
            switch error {
            case .notFound(let name): throw .quarantinedFileNotFound(name, directory: spool.layout.quarantine)
            case .invalidName(let name): throw .failed("\"\(name)\" is not the name of a quarantined copy")
            case .reasonFile: throw .failed(error.description)
            case .trouble(let why): throw .failed(why)
            }
        }
    }

    func rescan() async throws(AdminFailure) {
        spool.requestRescan()
    }

    /// Straight into the store, like Submit: the quarantined copy, if any,
    /// stays where it is (the operator may keep it as evidence).
    func forget(hash: [UInt8]) async throws(AdminFailure) -> ForgetResult {
        try await submitter.forget(hash: hash)
    }

    func show(hash: [UInt8]) async throws(AdminFailure) -> RejectedText {
        try await submitter.show(hash: hash)
    }
}
