/// A value with the order key of the message that set it.
public struct Stamped<Value: Sendable & Equatable>: Sendable, Equatable {
    public var value: Value
    public var key: OrderKey

    public init(_ value: Value, at key: OrderKey) {
        self.value = value
        self.key = key
    }
}

extension Optional {
    /// Last writer wins: take `value` unless a greater key already set it.
    /// Commutative and idempotent, so any arrival order folds the same.
    @inlinable
    mutating func take<V>(_ value: V?, at key: OrderKey) where Wrapped == Stamped<V> {
        guard let value else { return }
        if let current = self, !(current.key < key) { return }
        self = Stamped(value, at: key)
    }

    /// The greatest key seen.
    @inlinable
    mutating func raise(to key: OrderKey) where Wrapped == OrderKey {
        if let current = self, !(current < key) { return }
        self = key
    }
}

// The fold (docs/design.md, "Reconciliation"): every field of every subject takes its value from the
// greatest-key message that sets it. Each `apply` is O(1), commutative and
// idempotent, so the same set of messages gives the same state in any order;
// removing a message (a conflict) means folding the subject's remaining
// messages from empty, which `SubjectState.fold` does.

public struct WorkplaceState: Sendable, Equatable {
    public struct Strike: Sendable, Equatable {
        public var status: StrikeStatus
        public var participants: Int64?

        public init(status: StrikeStatus, participants: Int64?) {
            self.status = status
            self.participants = participants
        }
    }

    public var id: Slug
    /// The greatest key of a `workplace.reported`; nil while only referenced.
    public var reported: OrderKey?
    public var name: Stamped<String>?
    public var kind: Stamped<WorkplaceKind>?
    public var sector: Stamped<String>?
    public var town: Stamped<String>?
    public var region: Stamped<String>?
    public var ownership: Stamped<Ownership>?
    public var headcount: Stamped<Int64>?
    /// Status and participants come together from the greatest-key `strike.reported`.
    public var strike: Stamped<Strike>?

    public init(id: Slug) { self.id = id }
}

public struct CouncilState: Sendable, Equatable {
    public var id: Slug
    public var formed: OrderKey?
    public var name: Stamped<String>?
    public var level: Stamped<CouncilLevel>?
    public var area: Stamped<String>?

    public init(id: Slug) { self.id = id }
}

public struct DemandState: Sendable, Equatable {
    public struct Proposal: Sendable, Equatable {
        public var text: String
        public var category: DemandCategory

        public init(text: String, category: DemandCategory) {
            self.text = text
            self.category = category
        }
    }

    public var id: Slug
    public var proposal: Stamped<Proposal>?

    public init(id: Slug) { self.id = id }
}

/// A workplace's support for a demand: present once any adoption is applied.
public struct SupportState: Sendable, Equatable {
    public var demand: Slug
    public var workplace: Slug
    /// The greatest-key adoption and its votes, if it recorded any.
    public var adoption: Stamped<Votes?>?

    public init(demand: Slug, workplace: Slug) {
        self.demand = demand
        self.workplace = workplace
    }
}

public struct OutcomeState: Sendable, Equatable {
    public var demand: Slug
    public var workplace: Slug
    public var outcome: Stamped<DemandOutcome>?

    public init(demand: Slug, workplace: Slug) {
        self.demand = demand
        self.workplace = workplace
    }
}

public struct ActionState: Sendable, Equatable {
    public var id: Slug
    public var called: OrderKey?
    public var kind: Stamped<ActionKind>?
    public var startsAt: Stamped<Timestamp>?
    public var hours: Stamped<Int64>?
    public var demands: Stamped<[Slug]>?
    public var text: Stamped<String>?

    public init(id: Slug) { self.id = id }
}

/// A workplace's participation in an action.
public struct ParticipationState: Sendable, Equatable {
    public var action: Slug
    public var workplace: Slug
    /// The greatest key of a join.
    public var joined: OrderKey?
    /// From the greatest-key join that gives a count (a join without one does
    /// not erase an earlier count, as for every other optional field).
    public var participants: Stamped<Int64>?

    public init(action: Slug, workplace: Slug) {
        self.action = action
        self.workplace = workplace
    }
}

/// The state of one subject.
public enum SubjectState: Sendable, Equatable {
    case workplace(WorkplaceState)
    case council(CouncilState)
    case delegate(DelegateState)
    case demand(DemandState)
    case support(SupportState)
    case outcome(OutcomeState)
    case action(ActionState)
    case participation(ParticipationState)

    /// The empty state of a subject, before any message.
    public init(empty subject: Subject) {
        switch subject {
        case .workplace(let id): self = .workplace(WorkplaceState(id: id))
        case .council(let id): self = .council(CouncilState(id: id))
        case .delegate(let id): self = .delegate(DelegateState(id: id))
        case .demand(let id): self = .demand(DemandState(id: id))
        case .support(let demand, let workplace): self = .support(SupportState(demand: demand, workplace: workplace))
        case .outcome(let demand, let workplace): self = .outcome(OutcomeState(demand: demand, workplace: workplace))
        case .action(let id): self = .action(ActionState(id: id))
        case .participation(let action, let workplace): self = .participation(ParticipationState(action: action, workplace: workplace))
        }
    }

    /// Folds a subject's messages from empty. Order does not matter.
    public static func fold(_ subject: Subject, _ messages: some Sequence<Message>) -> SubjectState {
        var state = SubjectState(empty: subject)
        for message in messages { state.apply(message) }
        return state
    }

    /// Applies one message of this subject. A message of another subject is a
    /// programming error.
    public mutating func apply(_ message: Message) {
        let key = message.key
        switch (self, message.body) {
        case (.workplace(var state), .workplaceReported(let report)):
            state.reported.raise(to: key)
            state.name.take(report.name, at: key)
            state.kind.take(report.kind, at: key)
            state.sector.take(report.sector, at: key)
            state.town.take(report.town, at: key)
            state.region.take(report.region, at: key)
            state.ownership.take(report.ownership, at: key)
            state.headcount.take(report.headcount, at: key)
            self = .workplace(state)
        case (.workplace(var state), .strikeReported(_, let status, let participants)):
            state.strike.take(WorkplaceState.Strike(status: status, participants: participants), at: key)
            self = .workplace(state)
        case (.council(var state), .councilFormed(_, let name, let level, let area)):
            state.formed.raise(to: key)
            state.name.take(name, at: key)
            state.level.take(level, at: key)
            state.area.take(area, at: key)
            self = .council(state)
        case (.delegate(var state), .delegateElected), (.delegate(var state), .delegateRecalled),
             (.delegate(var state), .delegateStatus), (.delegate(var state), .delegateSafety):
            state.apply(message.body, at: key)
            self = .delegate(state)
        case (.demand(var state), .demandProposed(_, let text, let category, _)):
            state.proposal.take(DemandState.Proposal(text: text, category: category), at: key)
            self = .demand(state)
        case (.support(var state), .demandAdopted(_, _, let votes)):
            state.adoption.take(.some(votes), at: key)
            self = .support(state)
        case (.outcome(var state), .demandOutcome(_, _, let outcome)):
            state.outcome.take(outcome, at: key)
            self = .outcome(state)
        case (.action(var state), .actionCalled(let call)):
            state.called.raise(to: key)
            state.kind.take(call.kind, at: key)
            state.startsAt.take(call.startsAt, at: key)
            state.hours.take(call.hours, at: key)
            state.demands.take(call.demands, at: key)
            state.text.take(call.text, at: key)
            self = .action(state)
        case (.participation(var state), .actionJoined(_, _, let participants)):
            state.joined.raise(to: key)
            state.participants.take(participants, at: key)
            self = .participation(state)
        default:
            preconditionFailure("message \(message.origin)#\(message.seq) of subject \(message.subject.key) applied to another subject")
        }
    }
}
