/// The one piece of state a message folds into (docs/design.md, "Reconciliation").
///
/// Each applied message changes exactly one subject, so an out-of-order message,
/// or the removal of a message by a conflict, re-folds that subject alone.
public enum Subject: Sendable, Hashable {
    case workplace(Slug)
    case council(Slug)
    case delegate(Slug)
    case demand(Slug)
    /// A workplace's adoption of a demand.
    case support(demand: Slug, workplace: Slug)
    /// Where a workplace's demand stands.
    case outcome(demand: Slug, workplace: Slug)
    case action(Slug)
    /// A workplace's joining of an action.
    case participation(action: Slug, workplace: Slug)

    /// A stable text form, used as a database key: `workplace/mtz`, `support/new-elections/mtz`.
    public var key: String {
        switch self {
        case .workplace(let id): "workplace/\(id)"
        case .council(let id): "council/\(id)"
        case .delegate(let id): "delegate/\(id)"
        case .demand(let id): "demand/\(id)"
        case .support(let demand, let workplace): "support/\(demand)/\(workplace)"
        case .outcome(let demand, let workplace): "outcome/\(demand)/\(workplace)"
        case .action(let id): "action/\(id)"
        case .participation(let action, let workplace): "participation/\(action)/\(workplace)"
        }
    }
}

/// Kinds of entity a message can name.
public enum EntityKind: String, Sendable, CaseIterable, Comparable {
    case workplace, council, delegate, demand, action

    public static func < (lhs: EntityKind, rhs: EntityKind) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An entity named by a message. It is *unresolved* while no applied message
/// describes it (docs/design.md, "Reconciliation"): a workplace without
/// `workplace.reported`, a council without `council.formed`, a delegate without
/// an election, a demand without `demand.proposed`, an action without `action.called`.
public struct EntityRef: Sendable, Hashable, Comparable {
    public let kind: EntityKind
    public let id: Slug

    public init(_ kind: EntityKind, _ id: Slug) {
        self.kind = kind
        self.id = id
    }

    public static func < (lhs: EntityRef, rhs: EntityRef) -> Bool {
        (lhs.kind, lhs.id) < (rhs.kind, rhs.id)
    }
}

extension Message {
    public var subject: Subject {
        switch body {
        case .workplaceReported(let report): .workplace(report.workplace)
        case .strikeReported(let workplace, _, _): .workplace(workplace)
        case .councilFormed(let council, _, _, _): .council(council)
        case .delegateElected(let delegate, _, _, _, _): .delegate(delegate)
        case .delegateRecalled(let delegate, _, _): .delegate(delegate)
        case .delegateStatus(let delegate, _, _): .delegate(delegate)
        case .delegateSafety(let delegate, _, _, _): .delegate(delegate)
        case .demandProposed(let demand, _, _, _): .demand(demand)
        case .demandAdopted(let demand, let workplace, _): .support(demand: demand, workplace: workplace)
        case .demandOutcome(let demand, let workplace, _): .outcome(demand: demand, workplace: workplace)
        case .actionCalled(let call): .action(call.action)
        case .actionJoined(let action, let workplace, _): .participation(action: action, workplace: workplace)
        }
    }

    /// Every entity this message names, its own subject's included, without repeats.
    public var references: [EntityRef] {
        var refs: [EntityRef]
        switch body {
        case .workplaceReported(let report): refs = [EntityRef(.workplace, report.workplace)]
        case .strikeReported(let workplace, _, _): refs = [EntityRef(.workplace, workplace)]
        case .councilFormed(let council, _, _, _): refs = [EntityRef(.council, council)]
        case .delegateElected(let delegate, let body, let council, _, _):
            refs = [EntityRef(.delegate, delegate), body.reference, EntityRef(.council, council)]
        case .delegateRecalled(let delegate, let body, _):
            refs = [EntityRef(.delegate, delegate), body.reference]
        case .delegateStatus(let delegate, _, _), .delegateSafety(let delegate, _, _, _): refs = [EntityRef(.delegate, delegate)]
        case .demandProposed(let demand, _, _, _): refs = [EntityRef(.demand, demand)]
        case .demandAdopted(let demand, let workplace, _), .demandOutcome(let demand, let workplace, _):
            refs = [EntityRef(.demand, demand), EntityRef(.workplace, workplace)]
        case .actionCalled(let call):
            refs = [EntityRef(.action, call.action)] + (call.demands ?? []).map { EntityRef(.demand, $0) }
        case .actionJoined(let action, let workplace, _):
            refs = [EntityRef(.action, action), EntityRef(.workplace, workplace)]
        }
        // At most 102 refs (an action names up to 100 demands): a linear
        // search costs less than hashing them into a set.
        var unique: [EntityRef] = []
        unique.reserveCapacity(refs.count)
        for ref in refs where !unique.contains(ref) { unique.append(ref) }
        return unique
    }
}
