import StrikeCore

// The read side's value types: what the queries in Store+Queries.swift return.
// They mirror org.strikecd.Query's types field for field, but know nothing of
// Varlink; the server maps them to the wire in one place.

/// One page of a list, and the cursor for the next page when more remain.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    /// Pass as `PageRequest.cursor` to continue; nil on the last page.
    public var next: String?

    public init(items: [Item], next: String?) {
        self.items = items
        self.next = next
    }
}

/// Which page of a list to read.
///
/// `limit` is clamped to 1…`maximum` of the query (1000, or 200 for the
/// lists whose items carry nested lists), so a reply stays within a few MiB
/// however large the store. The cursor is opaque to callers: it is the sort
/// key of the last item returned, so a page stays correct while the state
/// changes underneath (it starts after that key).
public struct PageRequest: Sendable {
    public static let defaultLimit = 100
    public static let maximumLimit = 1000
    /// For demands and actions, which carry up to 10 workplaces each.
    public static let maximumNestedLimit = 200

    public var limit: Int
    public var cursor: String?

    public init(limit: Int? = nil, cursor: String? = nil) {
        self.limit = limit ?? PageRequest.defaultLimit
        self.cursor = cursor
    }

    func clamped(to maximum: Int) -> Int { min(max(limit, 1), maximum) }
}

/// Why a query could not be answered.
public enum QueryError: Error, Sendable {
    /// The cursor was not one this query returned.
    case invalidCursor
    /// The database failed.
    case store(StoreError)
}

/// Which workplaces `listWorkplaces` returns, by strike status.
public enum StrikeFilter: Sendable, Equatable {
    /// strike, partial, go-slow or work-to-rule: what the Summary counts as striking.
    case striking
    case status(StrikeStatus)

    /// Parses `striking` or a status as written in messages.
    public init?(_ text: String) {
        if text == "striking" {
            self = .striking
        } else if let status = StrikeStatus(rawValue: text) {
            self = .status(status)
        } else {
            return nil
        }
    }
}

public struct WorkplaceRecord: Sendable, Equatable {
    public var id: String
    /// A `workplace.reported` described it; otherwise only strike reports or references exist.
    public var described: Bool
    public var name: String?
    public var kind: WorkplaceKind?
    public var sector: String?
    public var town: String?
    public var region: String?
    public var ownership: Ownership?
    public var headcount: Int64?
    public var status: StrikeStatus?
    public var participants: Int64?
    /// When the latest message that reported on it was sent, in UTC (RFC
    /// 3339); nil for a workplace that messages only name.
    public var reportedAt: String? = nil

    public var striking: Bool { status?.isStriking ?? false }
}

/// A delegate with one of its mandates: in GetWorkplace, a mandate the
/// workplace gave; in ListDelegates, its latest matching the filter.
public struct DelegateRecord: Sendable, Equatable {
    public var id: String
    /// The electing body of the mandate shown: a workplace or a council.
    public var workplace: String?
    public var fromCouncil: String?
    public var council: String
    /// Held, missing or exiled if so; otherwise (in GetWorkplace) the
    /// mandate's status, or (in ListDelegates) how the Summary counts it.
    public var status: DelegateStatus
    /// From the greatest-key safety report; nil when there is none.
    public var safety: SafetyStatus?
    /// The shown mandate's status (ListDelegates).
    public var mandate: MandateStatus?
    /// When the latest message about the delegate (an election, a recall,
    /// a status or safety report) was sent, in UTC (RFC 3339); nil where it
    /// is not read (a workplace's list).
    public var reportedAt: String?

    public init(id: String, workplace: String? = nil, fromCouncil: String? = nil, council: String, status: DelegateStatus,
                safety: SafetyStatus? = nil, mandate: MandateStatus? = nil, reportedAt: String? = nil) {
        self.id = id
        self.workplace = workplace
        self.fromCouncil = fromCouncil
        self.council = council
        self.status = status
        self.safety = safety
        self.mandate = mandate
        self.reportedAt = reportedAt
    }
}

public struct CouncilRecord: Sendable, Equatable {
    public var id: String
    public var name: String?
    public var level: CouncilLevel
    public var area: String?
    /// Active mandates in it whose delegate is not held, missing or exiled.
    public var activeDelegates: Int64
}

/// Where one workplace stands on one demand.
public struct DemandWorkplaceRecord: Sendable, Equatable {
    public var workplace: String
    public var adopted: Bool
    public var votes: Votes?
    public var outcome: DemandOutcome?
}

public struct OutcomeCounts: Sendable, Equatable {
    public var presented: Int64 = 0, negotiating: Int64 = 0, won: Int64 = 0, rejected: Int64 = 0, withdrawn: Int64 = 0
    public init() {}
}

public struct DemandRecord: Sendable, Equatable {
    public var id: String
    public var text: String
    public var category: DemandCategory
    /// Workplaces that adopted it.
    public var supporters: Int64
    public var outcomes: OutcomeCounts
    /// The first `DemandRecord.inlineWorkplaces` workplaces that adopted it or reported an outcome.
    public var workplaces: [DemandWorkplaceRecord]
    /// More workplaces than `workplaces` holds: page with `listDemandWorkplaces`.
    public var moreWorkplaces: Bool

    public static let inlineWorkplaces = 10
}

public struct ActionWorkplaceRecord: Sendable, Equatable {
    public var workplace: String
    public var participants: Int64?
}

public struct ActionRecord: Sendable, Equatable {
    public var id: String
    public var kind: ActionKind
    /// As written in the call.
    public var startsAt: String
    public var hours: Int64?
    public var demands: [String]
    public var text: String?
    /// Workplaces that joined it.
    public var joined: Int64
    /// The sum of their participants (absent counts 0).
    public var participants: Int64
    public var workplaces: [ActionWorkplaceRecord]
    public var moreWorkplaces: Bool

    public static let inlineWorkplaces = 10
}

/// A demand as seen from one workplace.
public struct WorkplaceDemandRecord: Sendable, Equatable {
    public var demand: String
    public var text: String?
    public var category: DemandCategory?
    public var adopted: Bool
    public var votes: Votes?
    public var outcome: DemandOutcome?
}

/// An action as seen from one workplace that joined it.
public struct WorkplaceActionRecord: Sendable, Equatable {
    public var action: String
    public var kind: ActionKind?
    public var startsAt: String?
    public var participants: Int64?
}

/// One workplace with what hangs off it, each list cut at `WorkplaceDetail.listLimit`.
public struct WorkplaceDetail: Sendable, Equatable {
    public var workplace: WorkplaceRecord
    public var delegates: [DelegateRecord]
    public var demands: [WorkplaceDemandRecord]
    public var actions: [WorkplaceActionRecord]
    /// Reports from other origins about this workplace, latest first: they
    /// moved nothing.
    public var reports: [ReportRecord] = []
    /// One of the lists was cut.
    public var truncated: Bool

    public static let listLimit = 100
}

public struct RejectedRecord: Sendable, Equatable {
    /// SHA-256 identity, lower-case hex.
    public var hash: String
    public var origin: String?
    public var seq: Int64?
    public var code: String
    public var detail: String
    public var source: String
    /// Seconds since the epoch.
    public var firstSeen: Int64
}

/// What is kept of a rejected version.
public enum RejectedText: Sendable, Equatable {
    /// Its canonical JSON: it was a valid message (a side of a conflict).
    case message(String)
    /// Nothing: it was invalid, and only its quarantined copy holds its bytes.
    case notKept
}

/// Missing seqs `first...last` of one origin.
public struct GapRecord: Sendable, Equatable {
    public var origin: String
    public var first: Int64
    public var last: Int64

    public var missing: Int64 { last - first + 1 }
}

public struct UnresolvedRecord: Sendable, Equatable {
    public var kind: EntityKind
    public var id: String
    /// Applied messages that name it.
    public var messages: Int64
}

public struct WorkplaceQuery: Sendable, Equatable {
    public var region: String?
    public var town: String?
    public var strike: StrikeFilter?

    public init(region: String? = nil, town: String? = nil, strike: StrikeFilter? = nil) {
        self.region = region
        self.town = town
        self.strike = strike
    }
}

public struct DelegateQuery: Sendable, Equatable {
    public var workplace: String?
    public var council: String?
    public var status: DelegateStatus?
    public var safety: SafetyStatus?
    /// Delegates with a mandate in this status.
    public var mandate: MandateStatus?

    public init(workplace: String? = nil, council: String? = nil, status: DelegateStatus? = nil,
                safety: SafetyStatus? = nil, mandate: MandateStatus? = nil) {
        self.workplace = workplace
        self.council = council
        self.status = status
        self.safety = safety
        self.mandate = mandate
    }
}
