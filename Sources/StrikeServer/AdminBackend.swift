import Foundation
import StrikeCore
import StrikeOS
import StrikeStore
import VarlinkProtocol

/// What `org.strikecd.Admin` does, implemented by the daemon.
///
/// The server checks the caller's access and the parameters, calls one of
/// these, and maps the result or `AdminFailure` to a reply. Implementations
/// must not block the calling thread (use async I/O or a thread pool) and
/// must publish what they commit to the `ChangeFeed`, so that watchers see
/// submitted messages as they see spool files.
public protocol AdminBackend: Sendable {
    /// Applies `messages` (JSON objects, at most 1000) in one transaction,
    /// exactly as if they had arrived in the spool together, and returns one
    /// result per message, in order. `peer` is for the record (the source of
    /// rejected versions), not for authorization, which is already done.
    func submit(_ messages: [JSONValue], from peer: PeerCredentials) async throws(AdminFailure) -> [SubmitResult]

    /// Moves `name` (a plain file name, already checked to have no directory
    /// part) from the quarantine directory back into incoming/, forgets its
    /// rejected version so that it is judged afresh, and returns the name it
    /// got in incoming/.
    func requeue(_ name: String) async throws(AdminFailure) -> String

    /// Requeues every quarantined copy of the rejected version whose identity
    /// is `hash` (32 bytes), found by its content, and returns their names in
    /// incoming/.
    func requeueRejected(hash: [UInt8]) async throws(AdminFailure) -> [String]

    /// Scans incoming/ now. Returns when the scan has been scheduled or done.
    func rescan() async throws(AdminFailure)

    /// Forgets the rejected version whose identity is `hash` (32 bytes, as
    /// ListRejected shows it in hex): an operator's decision against it. If
    /// it was one side of a conflict that leaves a single valid version, that
    /// version is applied again and returned.
    func forget(hash: [UInt8]) async throws(AdminFailure) -> ForgetResult

    /// What is kept of the rejected version whose identity is `hash`, so
    /// that an operator can compare the sides of a conflict before forgetting
    /// one. Admin only: a message's text may say more than the state does.
    func show(hash: [UInt8]) async throws(AdminFailure) -> RejectedText
}

extension AdminBackend {
    /// For backends without a spool (and older test doubles).
    public func requeueRejected(hash: [UInt8]) async throws(AdminFailure) -> [String] { throw .notImplemented }
}

/// What `Admin.Forget` did.
public struct ForgetResult: Sendable, Equatable {
    /// The rival version applied again, when the forgotten one was half of a
    /// conflict between two valid versions.
    public var restored: Envelope?

    public init(restored: Envelope?) {
        self.restored = restored
    }
}

/// What became of one submitted message.
public struct SubmitResult: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        case applied, duplicate, rejected
    }

    /// Position in the submitted list, from 0.
    public var index: Int
    public var origin: String?
    public var seq: Int64?
    public var outcome: Outcome
    /// For `rejected`: the reason code and detail.
    public var code: String?
    public var detail: String?

    public init(index: Int, origin: String?, seq: Int64?, outcome: Outcome, code: String? = nil, detail: String? = nil) {
        self.index = index
        self.origin = origin
        self.seq = seq
        self.outcome = outcome
        self.code = code
        self.detail = detail
    }
}

/// Why an Admin action failed; mapped to Varlink errors in one place (Dispatcher).
public enum AdminFailure: Error, Sendable, Equatable {
    /// Requeue: the quarantine has no such file (or no copy of the version)
    /// → `QuarantinedFileNotFound`, with the quarantine's path when known.
    case quarantinedFileNotFound(String, directory: String? = nil)
    /// Forget: no rejected version has this hash → `RejectedVersionNotFound`.
    case rejectedVersionNotFound(String)
    /// This backend does not do that → `org.varlink.service.MethodNotImplemented`.
    case notImplemented
    /// Anything else, for people → `Failed(detail)`; logged by the server.
    case failed(String)
}

/// An `AdminBackend` that submits straight into the store, for a daemon that
/// has no better path and for tests. Requeue and rescan need the spool, so
/// they are not implemented here.
public struct StoreAdmin: AdminBackend {
    public let store: Store
    public let feed: ChangeFeed?
    public let maximumFutureSkew: Int64
    private let clock: @Sendable () -> Int64
    /// The signature rules in effect now (the daemon's, which a reload may replace).
    private let signatures: @Sendable () -> SignatureRules

    /// - Parameter signatures: the signature policy and keyring; submitted
    ///   messages are judged exactly as spool files are. `.off` only for tests.
    public init(store: Store, feed: ChangeFeed?, maximumFutureSkew: Int64 = 15 * 60, clock: @escaping @Sendable () -> Int64 = { Sys.now() },
                signatures: @escaping @Sendable () -> SignatureRules = { .off }) {
        self.store = store
        self.feed = feed
        self.maximumFutureSkew = maximumFutureSkew
        self.clock = clock
        self.signatures = signatures
    }

    public func submit(_ messages: [JSONValue], from peer: PeerCredentials) async throws(AdminFailure) -> [SubmitResult] {
        let rules = signatures()
        let policy = ValidationPolicy(now: clock(), maximumFutureSkew: maximumFutureSkew, signatures: rules)
        let copies = StoreAdmin.copies(messages, from: peer, policy: policy)
        let result: (outcomes: [CopyOutcome], events: [ReconcileEvent])
        do {
            result = try await store.ingestAsync(copies, now: clock(), speakers: rules.speakers)
        } catch {
            throw .failed("the messages could not be stored: \(error.detail)")
        }
        feed?.publish(Change.changes(copies: copies, outcomes: result.outcomes, events: result.events))
        return StoreAdmin.results(copies, result.outcomes)
    }

    public func requeue(_ name: String) async throws(AdminFailure) -> String { throw .notImplemented }

    public func requeueRejected(hash: [UInt8]) async throws(AdminFailure) -> [String] { throw .notImplemented }

    public func rescan() async throws(AdminFailure) { throw .notImplemented }

    public func forget(hash: [UInt8]) async throws(AdminFailure) -> ForgetResult {
        let events: [ReconcileEvent]?
        do {
            events = try await store.forgetRejected(hash: Data(hash), now: clock(), speakers: signatures().speakers)
        } catch {
            throw .failed("the version could not be forgotten: \(error.detail)")
        }
        guard let events else { throw .rejectedVersionNotFound(AdminCall.hashText(hash)) }
        feed?.publish(Change.eventChanges(events))
        var restored: Envelope?
        for case .restored(let envelope, _, _) in events { restored = envelope }
        return ForgetResult(restored: restored)
    }

    public func show(hash: [UInt8]) async throws(AdminFailure) -> RejectedText {
        let text: RejectedText?
        do {
            text = try await store.read(Store.rejectedText(hash: Data(hash)))
        } catch {
            throw .failed("the version could not be read: \(error)")
        }
        guard let text else { throw .rejectedVersionNotFound(AdminCall.hashText(hash)) }
        return text
    }

    /// Reads submitted values as copies. Each value is written back out as
    /// compact JSON (numbers as written, members in order) and read like a
    /// spool file, so the 64 KiB limit and every rule apply and the copy's
    /// identity is the one the same message would have in a file.
    public static func copies(_ messages: [JSONValue], from peer: PeerCredentials, policy: ValidationPolicy) -> [CopyInput] {
        messages.enumerated().map { index, value in
            CopyInput(
                reading: MessageReader.read(JSONWriter.bytes(value, style: .compact), policy: policy),
                source: "Admin.Submit by uid \(peer.uid), message \(index)")
        }
    }

    public static func results(_ copies: [CopyInput], _ outcomes: [CopyOutcome]) -> [SubmitResult] {
        zip(copies, outcomes).enumerated().map { index, pair in
            let (copy, outcome) = pair
            let envelope = copy.reading.envelope
            var result = SubmitResult(index: index, origin: envelope?.origin.rawValue, seq: envelope?.seq, outcome: .applied)
            switch outcome {
            case .applied: break
            case .duplicate: result.outcome = .duplicate
            case .rejected(let rejection):
                result.outcome = .rejected
                result.code = rejection.code.rawValue
                result.detail = rejection.detail
            }
            return result
        }
    }
}
