import StrikeCore
import Synchronization

/// One committed change to the state, as `org.strikecd.Query.Watch` streams it.
///
/// Published after the transaction that made it is durable, never before, so
/// a watcher that queries on seeing a change finds it.
public struct Change: Sendable, Equatable {
    public enum Outcome: String, Sendable, CaseIterable {
        /// A new message is part of the state.
        case applied
        /// A new version was rejected as invalid (`code` says why).
        case rejected
        /// A second valid version of an (origin, seq) arrived: all its versions are rejected.
        case conflict
        /// A message that was applied has been taken out (by a conflict or a requeue).
        case removed
    }

    /// Absent when the copy's envelope could not be read.
    public var origin: String?
    public var seq: Int64?
    /// The message type, for a valid message.
    public var type: String?
    /// The subject key, e.g. `workplace/mtz`, for a valid message.
    public var subject: String?
    public var outcome: Outcome
    /// The reason code for `rejected` and `conflict`.
    public var code: String?

    public init(origin: String?, seq: Int64?, type: String?, subject: String?, outcome: Outcome, code: String?) {
        self.origin = origin
        self.seq = seq
        self.type = type
        self.subject = subject
        self.outcome = outcome
        self.code = code
    }

    /// The changes that one `Store.ingest` made: one per copy that was not a
    /// duplicate, in order, then one `removed` per applied message that a
    /// conflict took out, and one `applied` per message a forgotten conflict
    /// restored. Pass the same copies and the result of the ingest.
    public static func changes(copies: [CopyInput], outcomes: [CopyOutcome], events: [ReconcileEvent]) -> [Change] {
        var changes: [Change] = []
        for (copy, outcome) in zip(copies, outcomes) {
            if let change = Change(copy.reading, outcome: outcome) { changes.append(change) }
        }
        changes += eventChanges(events)
        return changes
    }

    /// The change one copy made; nil for a duplicate, which changes nothing.
    /// Takes the reading where it lies, for a caller that holds its copies in
    /// another shape than `CopyInput` (the spool's batch).
    public init?(_ reading: borrowing CopyReading, outcome: CopyOutcome) {
        let envelope = reading.envelope
        let message = reading.message
        self.init(
            origin: envelope?.origin.rawValue, seq: envelope?.seq, type: message?.type.rawValue,
            subject: message?.subject.key, outcome: .applied, code: nil)
        switch outcome {
        case .duplicate:
            return nil
        case .applied:
            break
        case .rejected(let rejection):
            self.outcome = rejection.code == .conflict ? .conflict : .rejected
            code = rejection.code.rawValue
        }
    }

    /// What the events of a transaction changed besides its copies: one
    /// `removed` per applied message that a conflict took out, one `applied`
    /// per message applied again because its rival was forgotten.
    public static func eventChanges(_ events: [ReconcileEvent]) -> [Change] {
        var changes: [Change] = []
        for event in events {
            switch event {
            case .conflict(let envelope, removedApplied: true):
                changes.append(Change(
                    origin: envelope.origin.rawValue, seq: envelope.seq, type: nil, subject: nil, outcome: .removed, code: nil))
            case .restored(let envelope, let type, let subject):
                changes.append(Change(
                    origin: envelope.origin.rawValue, seq: envelope.seq, type: type.rawValue, subject: subject, outcome: .applied, code: nil))
            case .conflict, .gap, .report, .rescoped:
                break
            }
        }
        return changes
    }
}

/// Fans committed changes out to watchers, each through its own bounded buffer.
///
/// The daemon's ingest loop (and anything else that commits, such as
/// `Admin.Submit`) calls `publish` after each commit. A watcher that falls
/// behind is cut off rather than silently skipped: its stream ends and
/// `Subscription.overflowed` turns true, so it can resynchronise (Summary,
/// then watch again). Falling behind means still having more than
/// `bufferSize` changes of earlier commits unread when the next commit is
/// published: a commit is delivered whole, however large (the spool commits
/// up to 10,000 copies at once), so an idle watcher is never cut off by one
/// big commit; it holds at most `bufferSize` changes plus one commit's.
/// Publishing never blocks.
public final class ChangeFeed: Sendable {
    public static let defaultBufferSize = 1024

    /// One watcher's view of the feed.
    public struct Subscription: Sendable {
        /// The changes, in commit order. Ends when the watcher overflows or the feed finishes.
        public let changes: Changes
        fileprivate let flag: OverflowFlag

        /// True once the stream ended because the watcher fell behind.
        public var overflowed: Bool { flag.value.load(ordering: .acquiring) }
    }

    /// A watcher's changes; taking one counts it as read.
    public struct Changes: AsyncSequence, Sendable {
        public typealias Element = Change
        fileprivate let stream: AsyncStream<Change>
        fileprivate let flag: OverflowFlag

        public struct AsyncIterator: AsyncIteratorProtocol {
            fileprivate var base: AsyncStream<Change>.Iterator
            fileprivate let flag: OverflowFlag

            public mutating func next() async -> Change? {
                let change = await base.next()
                if change != nil { flag.unread.subtract(1, ordering: .relaxed) }
                return change
            }
        }

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(base: stream.makeAsyncIterator(), flag: flag)
        }
    }

    fileprivate final class OverflowFlag: Sendable {
        let value = Atomic<Bool>(false)
        /// Changes published to the watcher and not yet taken.
        let unread = Atomic<Int>(0)
    }

    private struct Subscriber {
        let continuation: AsyncStream<Change>.Continuation
        let flag: OverflowFlag
    }

    private struct State {
        var subscribers: [UInt64: Subscriber] = [:]
        var nextID: UInt64 = 0
        var finished = false
    }

    public let bufferSize: Int
    private let state = Mutex(State())
    // Serialises publishers so every watcher sees one commit order. Yielding
    // never blocks, and onTermination handlers take only `state`, so holding
    // this while yielding or finishing cannot deadlock.
    private let publishing = Mutex(())

    public init(bufferSize: Int = ChangeFeed.defaultBufferSize) {
        precondition(bufferSize >= 1)
        self.bufferSize = bufferSize
    }

    /// How many watchers are subscribed (for tests and status lines).
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Starts receiving every change published from now on. Cancelling the
    /// task that iterates the stream, or dropping the stream, unsubscribes.
    public func subscribe() -> Subscription {
        let flag = OverflowFlag()
        // Unbounded here; `publish` bounds it, by the changes left unread.
        let (stream, continuation) = AsyncStream.makeStream(of: Change.self, bufferingPolicy: .unbounded)
        let id: UInt64? = state.withLock { state in
            guard !state.finished else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = Subscriber(continuation: continuation, flag: flag)
            return id
        }
        guard let id else {
            continuation.finish()
            return Subscription(changes: Changes(stream: stream, flag: flag), flag: flag)
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return Subscription(changes: Changes(stream: stream, flag: flag), flag: flag)
    }

    /// Delivers committed changes to every watcher, in order.
    public func publish(_ changes: [Change]) {
        guard !changes.isEmpty else { return }
        publishing.withLock { _ in
            let subscribers = state.withLock { $0.subscribers }
            for (id, subscriber) in subscribers {
                // Behind by more than the buffer from earlier commits: cut off.
                if subscriber.flag.unread.load(ordering: .relaxed) > bufferSize {
                    subscriber.flag.value.store(true, ordering: .releasing)
                    _ = state.withLock { $0.subscribers.removeValue(forKey: id) }
                    subscriber.continuation.finish()
                    continue
                }
                subscriber.flag.unread.add(changes.count, ordering: .relaxed)
                for change in changes { subscriber.continuation.yield(change) }
            }
        }
    }

    /// Ends every watcher's stream and refuses new ones (at shutdown).
    public func finish() {
        let subscribers = state.withLock { state in
            state.finished = true
            defer { state.subscribers.removeAll() }
            return state.subscribers
        }
        for subscriber in subscribers.values { subscriber.continuation.finish() }
    }
}
