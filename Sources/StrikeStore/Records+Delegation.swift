import StrikeCore

/// An applied message, named by its place in the order: `at` is its
/// `sent_at` as a UTC instant (`2020-08-24T06:30:00Z`).
public struct MessageRef: Sendable, Equatable, Hashable {
    public var at: String
    public var origin: String
    public var seq: Int64

    public init(at: String, origin: String, seq: Int64) {
        self.at = at
        self.origin = origin
        self.seq = seq
    }

    /// From an order key (`instant origin seq`); nil if it does not read.
    public init?(key: OrderKey) {
        let parts = key.rawValue.split(separator: " ")
        guard parts.count == 3, let seq = Int64(parts[2]) else { return nil }
        self.init(at: parts[0] + "Z", origin: String(parts[1]), seq: seq)
    }
}

/// One mandate: a delegate's seat in one council.
public struct MandateRecord: Sendable, Equatable {
    public var delegate: String
    public var council: String
    /// The body that gave it (the greatest-key election's).
    public var by: ElectingBody
    public var status: MandateStatus
    /// The election that gave it.
    public var elected: MessageRef
    /// The message that set its status (the election, a recall, a resignation).
    public var since: MessageRef
    /// Other bodies that elected the delegate to this council (irregular).
    public var otherBodies: [ElectingBody]

    public init(delegate: String, council: String, by: ElectingBody, status: MandateStatus, elected: MessageRef, since: MessageRef,
                otherBodies: [ElectingBody] = []) {
        self.delegate = delegate
        self.council = council
        self.by = by
        self.status = status
        self.elected = elected
        self.since = since
        self.otherBodies = otherBodies
    }
}

/// A delegate's safety: its greatest-key safety report, and who sent it when.
public struct SafetyRecord: Sendable, Equatable {
    public var status: SafetyStatus
    public var until: String?
    public var reported: MessageRef
}

public struct DelegateDetail: Sendable, Equatable {
    public var id: String
    /// How the Summary counts it; nil until it has an election.
    public var status: DelegateStatus?
    public var safety: SafetyRecord?
    public var mandates: [MandateRecord]
    public var truncated: Bool
    /// When the latest message about the delegate (an election, a recall,
    /// a status or safety report) was sent, in UTC (RFC 3339).
    public var reportedAt: String?
    /// The note of its greatest-key status or safety report: shown to the
    /// service's users, never logged.
    public var note: String?

    public static let listLimit = 100
}

public struct CouncilDetail: Sendable, Equatable {
    public var id: String
    /// A `council.formed` was applied.
    public var described: Bool
    public var name: String?
    public var level: CouncilLevel?
    public var area: String?
    /// The mandates in this council, with their electing bodies.
    public var mandates: [MandateRecord]
    /// The other mandates its delegates hold: the councils they sit in.
    public var seats: [MandateRecord]
    /// The mandates it gave, as an electing body (to councils above it).
    public var elected: [MandateRecord]
    /// Reports from other origins about this council, latest first.
    public var reports: [ReportRecord] = []
    public var truncated: Bool

    public static let listLimit = 100
}

/// A delegation the rules keep but do not silently merge.
public struct IrregularRecord: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A council elected to a council of the same or a lower level.
        case level
        /// Two or more bodies elected one delegate to one council.
        case bodies
        /// A body recalled a delegate it never elected.
        case recall
    }

    public var kind: Kind
    public var delegate: String
    /// The council of the mandate; nil for a recall (which names no council).
    public var council: String?
    /// The electing bodies involved.
    public var bodies: [ElectingBody]
    /// The messages involved: for each body, its greatest-key election (or recall).
    public var messages: [MessageRef]
    public var detail: String
}

/// A report from another origin: an applied message whose origin does not
/// speak for the body it is about, so it moved nothing (docs/messages.md, "Scopes").
public struct ReportRecord: Sendable, Equatable {
    /// The message: its origin is who reported it.
    public var message: MessageRef
    public var type: String
    /// What it would have changed, e.g. `workplace/tractor-works`,
    /// `delegate/rook`, `action/general-strike-48h`.
    public var subject: String
    /// The body it is about: `workplace:SLUG` or `council:SLUG`.
    public var body: String

    public init(message: MessageRef, type: String, subject: String, body: String) {
        self.message = message
        self.type = type
        self.subject = subject
        self.body = body
    }
}
