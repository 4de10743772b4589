/// A valid message of format v1: the envelope plus a typed body.
///
/// Only `MessageReader` makes these, so everything downstream may rely on the
/// rules of docs/messages.md having been checked.
public struct Message: Sendable {
    public let origin: Slug
    public let seq: Int64
    public let sentAt: Timestamp
    public let type: MessageType
    public let body: Body
    /// The optional signature, kept verbatim (checked by the reader under the
    /// signature policy in effect).
    public let sig: String?
    /// The canonical JSON of the whole message, `sig` included: what is stored,
    /// so that the signature can be checked again later.
    public let canonical: [UInt8]
    /// The canonical JSON without `sig`: the message's identity (two copies
    /// that differ only in `sig` are the same message) and what `sig` signs.
    public let content: [UInt8]

    /// The order of applied messages: (`sent_at` as a UTC instant, origin, seq).
    /// Computed once, when the message is read, not each time the writer
    /// folds or stores it.
    public let key: OrderKey

    public init(origin: Slug, seq: Int64, sentAt: Timestamp, type: MessageType, body: Body, sig: String?, canonical: [UInt8], content: [UInt8]? = nil) {
        self.origin = origin
        self.seq = seq
        self.sentAt = sentAt
        self.type = type
        self.body = body
        self.sig = sig
        self.canonical = canonical
        self.content = content ?? canonical
        self.key = OrderKey(sentAt: sentAt, origin: origin, seq: seq)
    }
}

/// The total order of applied messages, as one string that sorts byte-wise:
/// `UTC-instant origin seq` with the seq zero-padded to 19 digits. A space sorts
/// below every character of an instant or a slug, so a shorter instant or
/// origin that is a prefix of a longer one sorts first, as it should.
public struct OrderKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(sentAt: Timestamp, origin: Slug, seq: Int64) {
        // Written into one buffer: concatenating the parts made a dozen
        // strings per message.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(48 + origin.rawValue.utf8.count)
        sentAt.appendUTCSortable(to: &bytes)
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: origin.rawValue.utf8)
        bytes.append(UInt8(ascii: " "))
        appendPadded(seq, 19, to: &bytes)
        rawValue = String(decoding: bytes, as: UTF8.self)
    }

    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public static func < (lhs: OrderKey, rhs: OrderKey) -> Bool {
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }
}

/// Yes/no/abstain counts of an assembly vote.
public struct Votes: Sendable, Equatable {
    public var yes: Int64
    public var no: Int64
    public var abstain: Int64

    public init(for yes: Int64, against no: Int64, abstain: Int64) {
        self.yes = yes
        self.no = no
        self.abstain = abstain
    }
}

/// The typed `data` of each message type. Optional fields are nil when absent.
public enum Body: Sendable, Equatable {
    case workplaceReported(WorkplaceReport)
    case strikeReported(workplace: Slug, status: StrikeStatus, participants: Int64?)
    case councilFormed(council: Slug, name: String?, level: CouncilLevel, area: String?)
    /// `by` is the electing body: `workplace` or `from_council` on the wire.
    case delegateElected(delegate: Slug, by: ElectingBody, council: Slug, votes: Votes, quorum: Int64?)
    case delegateRecalled(delegate: Slug, by: ElectingBody, votes: Votes)
    case delegateStatus(delegate: Slug, status: DelegateEvent, note: String?)
    case delegateSafety(delegate: Slug, status: SafetyStatus, until: CalendarDate?, note: String?)
    /// `by`: the council that proposes it (nil: the council whose slug is the origin).
    case demandProposed(demand: Slug, text: String, category: DemandCategory, by: Slug?)
    case demandAdopted(demand: Slug, workplace: Slug, votes: Votes?)
    case demandOutcome(demand: Slug, workplace: Slug, outcome: DemandOutcome)
    case actionCalled(ActionCall)
    case actionJoined(action: Slug, workplace: Slug, participants: Int64?)
}

public struct WorkplaceReport: Sendable, Equatable {
    public var workplace: Slug
    public var name: String?
    public var kind: WorkplaceKind?
    public var sector: String?
    public var town: String?
    public var region: String?
    public var ownership: Ownership?
    public var headcount: Int64?
}

public struct ActionCall: Sendable, Equatable {
    public var action: Slug
    public var kind: ActionKind
    public var startsAt: Timestamp
    public var hours: Int64?
    public var demands: [Slug]?
    public var text: String?
    /// The council that calls it (nil: the council whose slug is the origin).
    public var by: Slug?
}
