import StrikeCore

/// Everything a report shows, gathered by `strikectl report` from the
/// Query interface (or built by a test): plain values, so that rendering is
/// a pure function of them and of the language.
///
/// Texts in here come from messages (names, ids, demands' texts) or from the
/// server; the renderer escapes every one of them.
public struct ReportInput: Sendable {
    /// The Summary's numbers, as `strikectl status --json` prints them.
    public struct Numbers: Sendable, Equatable {
        public var workplaces: Int64 = 0, striking: Int64 = 0, participants: Int64 = 0
        public var delegatesActive: Int64 = 0, delegatesDetained: Int64 = 0, delegatesMissing: Int64 = 0
        public var delegatesExiled: Int64 = 0, delegatesRecalled: Int64 = 0, delegatesResigned: Int64 = 0
        public var mandatesActive: Int64 = 0, mandatesRecalled: Int64 = 0, mandatesResigned: Int64 = 0
        public var economic: Int64 = 0, democratic: Int64 = 0
        public var applied: Int64 = 0, duplicates: Int64 = 0, rejected: Int64 = 0
        public init() {}
    }

    public struct Region: Sendable, Equatable {
        /// Nil for workplaces whose region no message gives.
        public var name: String?
        public var workplaces: Int64
        public var striking: Int64
        public var participants: Int64
        public init(name: String?, workplaces: Int64, striking: Int64, participants: Int64) {
            (self.name, self.workplaces, self.striking, self.participants) = (name, workplaces, striking, participants)
        }
    }

    /// One row of the delegation tree, in the order `strikectl tree` prints it.
    public struct TreeRow: Sendable, Equatable {
        public var depth: Int
        /// A council's or a workplace's id.
        public var body: String
        /// A council's level, or nil for a workplace.
        public var level: String?
        public var isWorkplace: Bool
        /// The delegate it elected to the council above, and that mandate's status.
        public var delegate: String?
        public var mandate: String?
        /// A council already opened higher up.
        public var shownAbove: Bool
        public init(depth: Int, body: String, level: String?, isWorkplace: Bool, delegate: String?, mandate: String?, shownAbove: Bool = false) {
            (self.depth, self.body, self.level, self.isWorkplace) = (depth, body, level, isWorkplace)
            (self.delegate, self.mandate, self.shownAbove) = (delegate, mandate, shownAbove)
        }
    }

    /// A delegate held or missing. No note, no name: pseudonym and facts only.
    public struct Custody: Sendable, Equatable {
        public var pseudonym: String
        /// The latest safety report's status: detained, arrested, charged, sentenced, missing.
        public var status: String
        /// When that report was sent (RFC 3339).
        public var since: String?
        /// The end of a fixed arrest, YYYY-MM-DD.
        public var until: String?
        public init(pseudonym: String, status: String, since: String?, until: String?) {
            (self.pseudonym, self.status, self.since, self.until) = (pseudonym, status, since, until)
        }
    }

    public struct Demand: Sendable, Equatable {
        public var id: String
        public var text: String
        /// economic or democratic.
        public var category: String
        public var supporters: Int64
        /// Outcome name to count, for presented, negotiating, won, rejected, withdrawn.
        public var outcomes: [String: Int64]
        /// Workplaces that adopted it or reported an outcome: id, adopted, latest outcome.
        public var workplaces: [(id: String, adopted: Bool, outcome: String?)]
        /// How many more there are than `workplaces` holds.
        public var moreWorkplaces: Int64
        public init(id: String, text: String, category: String, supporters: Int64, outcomes: [String: Int64],
                    workplaces: [(id: String, adopted: Bool, outcome: String?)], moreWorkplaces: Int64) {
            (self.id, self.text, self.category, self.supporters) = (id, text, category, supporters)
            (self.outcomes, self.workplaces, self.moreWorkplaces) = (outcomes, workplaces, moreWorkplaces)
        }

        public static func == (a: Demand, b: Demand) -> Bool {
            a.id == b.id && a.text == b.text && a.category == b.category && a.supporters == b.supporters && a.outcomes == b.outcomes
                && a.workplaces.map(\.id) == b.workplaces.map(\.id) && a.workplaces.map(\.outcome) == b.workplaces.map(\.outcome)
                && a.moreWorkplaces == b.moreWorkplaces
        }
    }

    public struct Action: Sendable, Equatable {
        public var id: String
        /// general-strike, strike, march, rally or go-slow.
        public var kind: String
        /// RFC 3339, as the call gave it.
        public var startsAt: String
        public var hours: Int64?
        public var joined: Int64
        public var participants: Int64
        /// Workplaces that joined, with their count when reported.
        public var workplaces: [(id: String, participants: Int64?)]
        public var moreWorkplaces: Int64
        public init(id: String, kind: String, startsAt: String, hours: Int64?, joined: Int64, participants: Int64,
                    workplaces: [(id: String, participants: Int64?)], moreWorkplaces: Int64) {
            (self.id, self.kind, self.startsAt, self.hours) = (id, kind, startsAt, hours)
            (self.joined, self.participants, self.workplaces, self.moreWorkplaces) = (joined, participants, workplaces, moreWorkplaces)
        }

        public static func == (a: Action, b: Action) -> Bool {
            a.id == b.id && a.kind == b.kind && a.startsAt == b.startsAt && a.hours == b.hours && a.joined == b.joined
                && a.participants == b.participants && a.workplaces.map(\.id) == b.workplaces.map(\.id)
                && a.workplaces.map(\.participants) == b.workplaces.map(\.participants) && a.moreWorkplaces == b.moreWorkplaces
        }
    }

    public struct Gap: Sendable, Equatable {
        public var origin: String
        public var first: Int64
        public var last: Int64
        public init(origin: String, first: Int64, last: Int64) { (self.origin, self.first, self.last) = (origin, first, last) }
    }

    public struct Irregular: Sendable, Equatable {
        /// level, bodies or recall.
        public var kind: String
        public var delegate: String
        public var council: String?
        /// The messages involved, as origin#seq.
        public var messages: [String]
        public init(kind: String, delegate: String, council: String?, messages: [String]) {
            (self.kind, self.delegate, self.council, self.messages) = (kind, delegate, council, messages)
        }
    }

    /// When the report was made, in seconds since the epoch.
    public var generatedAt: Int64
    public var numbers = Numbers()
    /// The sent_at of the newest applied message (RFC 3339, UTC).
    public var newest: String?
    /// The state digest, when the server offers one (Query.StateDigest).
    public var digest: String?
    /// Per UTC day, overall.
    public var history: [HistoryPoint] = []
    public var regions: [Region] = []
    /// The striking workplaces per day of the regions with the most of them
    /// (at most `ReportLimits.regionsOverTime`), one count per day of `history`.
    public var regionHistory: [(region: String, striking: [Int64])] = []
    public var tree: [TreeRow] = []
    public var custody: [Custody] = []
    public var demands: [Demand] = []
    public var actions: [Action] = []
    public var gaps: [Gap] = []
    /// True when the gaps were cut at `ReportLimits.gaps`.
    public var moreGaps = false
    public var irregular: [Irregular] = []

    public init(generatedAt: Int64) { self.generatedAt = generatedAt }
}

/// How much of each long list a report prints: a report is read on paper.
/// The counts are always whole; only the lists of ids are cut, and the
/// report says how many more there are.
public enum ReportLimits {
    /// Workplaces named under one demand or one action.
    public static let workplacesPerItem = 60
    /// Runs of missing messages.
    public static let gaps = 200
    /// Regions with a column of their own in the table of strikes per day
    /// by region; the rest are summed in one column.
    public static let regionsOverTime = 6
}
