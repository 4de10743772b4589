/// The closed vocabularies of message format v1 (docs/messages.md).
///
/// Raw values are the exact strings on the wire.

public enum MessageType: String, Sendable, CaseIterable {
    case workplaceReported = "workplace.reported"
    case strikeReported = "strike.reported"
    case councilFormed = "council.formed"
    case delegateElected = "delegate.elected"
    case delegateRecalled = "delegate.recalled"
    case delegateStatus = "delegate.status"
    case delegateSafety = "delegate.safety"
    case demandProposed = "demand.proposed"
    case demandAdopted = "demand.adopted"
    case demandOutcome = "demand.outcome"
    case actionCalled = "action.called"
    case actionJoined = "action.joined"
}

public enum WorkplaceKind: String, Sendable, CaseIterable {
    case factory, plant, mine, office, it, transport, hospital, school, university, shop, other
}

public enum Ownership: String, Sendable, CaseIterable {
    case state, `private`, mixed
}

public enum StrikeStatus: String, Sendable, CaseIterable {
    case working, strike, partial
    case goSlow = "go-slow"
    case workToRule = "work-to-rule"
    case lockout

    /// Counted as striking in the Summary (docs/protocol.md).
    public var isStriking: Bool {
        switch self {
        case .strike, .partial, .goSlow, .workToRule: true
        case .working, .lockout: false
        }
    }
}

public enum CouncilLevel: String, Sendable, CaseIterable {
    case local, regional, national, neighbourhood
}

/// What a `delegate.status` message reports.
public enum DelegateEvent: String, Sendable, CaseIterable {
    case active, detained, missing, released, resigned
}

/// How a delegate is counted in the Summary and listed: the first of
/// detained (detained, arrested, charged or sentenced), missing, exiled,
/// active (any active mandate), recalled (its mandates' latest event was a
/// recall), resigned.
public enum DelegateStatus: String, Sendable, CaseIterable {
    case active, detained, missing, exiled, recalled, resigned
}

/// What a `delegate.safety` report says of a delegate, apart from its mandates.
public enum SafetyStatus: String, Sendable, CaseIterable {
    case free, detained, arrested, charged, sentenced, missing, exiled

    /// Held by the state: counted as detained in the Summary.
    public var isHeld: Bool {
        switch self {
        case .detained, .arrested, .charged, .sentenced: true
        case .free, .missing, .exiled: false
        }
    }
}

/// Where one mandate (a delegate's seat in one council) stands.
public enum MandateStatus: String, Sendable, CaseIterable {
    case active, recalled, resigned
}

public enum DemandCategory: String, Sendable, CaseIterable {
    case economic, democratic
}

public enum DemandOutcome: String, Sendable, CaseIterable {
    case presented, negotiating, won, rejected, withdrawn
}

public enum ActionKind: String, Sendable, CaseIterable {
    case generalStrike = "general-strike"
    case strike, march, rally
    case goSlow = "go-slow"
}
