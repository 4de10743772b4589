/// The Summary of docs/protocol.md: the one object that `strikecd ingest` prints,
/// `Summary()` returns and `strikectl status --json` shows.
public struct Summary: Sendable, Equatable {
    public struct Delegates: Sendable, Equatable {
        public var active = 0, detained = 0, missing = 0, exiled = 0, recalled = 0, resigned = 0
        public init() {}
    }

    /// Mandates (a delegate's seat in one council), by status.
    public struct Mandates: Sendable, Equatable {
        public var active = 0, recalled = 0, resigned = 0
        public init() {}
    }

    public struct Demands: Sendable, Equatable {
        public var economic = 0, democratic = 0
        public init() {}
    }

    public struct Messages: Sendable, Equatable {
        public var applied = 0, duplicates = 0, rejected = 0
        public init() {}
    }

    /// Workplaces with a `workplace.reported`.
    public var workplaces = 0
    /// Workplaces, described or not, whose status is strike, partial, go-slow or work-to-rule.
    public var striking = 0
    /// The sum of the striking workplaces' participants (none given counts 0).
    public var participants = 0
    public var delegates = Delegates()
    public var mandates = Mandates()
    public var demands = Demands()
    public var messages = Messages()

    public init() {}

    /// The JSON object, members in the order docs/protocol.md gives them.
    public var json: JSONValue {
        func n(_ value: Int) -> JSONValue { .number(JSONNumber(Int64(value))) }
        return .record([
            "workplaces": n(workplaces),
            "striking": n(striking),
            "participants": n(participants),
            "delegates": .record([
                "active": n(delegates.active), "detained": n(delegates.detained), "missing": n(delegates.missing),
                "exiled": n(delegates.exiled), "recalled": n(delegates.recalled), "resigned": n(delegates.resigned),
            ]),
            "mandates": .record([
                "active": n(mandates.active), "recalled": n(mandates.recalled), "resigned": n(mandates.resigned),
            ]),
            "demands": .record(["economic": n(demands.economic), "democratic": n(demands.democratic)]),
            "messages": .record([
                "applied": n(messages.applied), "duplicates": n(messages.duplicates), "rejected": n(messages.rejected),
            ]),
        ])
    }
}
