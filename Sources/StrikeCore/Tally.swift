/// What one subject's state contributes to the Summary.
///
/// The store keeps the Summary's numbers as running totals: when a subject's
/// state changes it subtracts the old contribution and adds the new one, so
/// `Summary()` costs the same on ten messages or ten million. Arithmetic is
/// exact: every count is at most `ValidationPolicy.maximumCount`, which keeps
/// any total within 64 bits (see there), so a total is the same whatever the
/// order and batches. It is checked all the same, and reports an overflow
/// (nil) rather than wrapping or trapping.
public struct Tally: Sendable, Equatable {
    public var workplaces: Int64 = 0
    public var striking: Int64 = 0
    public var participants: Int64 = 0
    public var active: Int64 = 0
    public var detained: Int64 = 0
    public var missing: Int64 = 0
    public var recalled: Int64 = 0
    public var resigned: Int64 = 0
    public var exiled: Int64 = 0
    public var mandatesActive: Int64 = 0
    public var mandatesRecalled: Int64 = 0
    public var mandatesResigned: Int64 = 0
    public var economic: Int64 = 0
    public var democratic: Int64 = 0

    public init() {}

    /// Names as stored, in a fixed order.
    public static let names = [
        "workplaces", "striking", "participants", "active", "detained", "missing", "recalled", "resigned",
        "economic", "democratic", "exiled", "mandates_active", "mandates_recalled", "mandates_resigned",
    ]

    public var values: [Int64] {
        [workplaces, striking, participants, active, detained, missing, recalled, resigned, economic, democratic,
         exiled, mandatesActive, mandatesRecalled, mandatesResigned]
    }

    public init(values: [Int64]) {
        precondition(values.count == Tally.names.count)
        (workplaces, striking, participants, active, detained) = (values[0], values[1], values[2], values[3], values[4])
        (missing, recalled, resigned, economic, democratic) = (values[5], values[6], values[7], values[8], values[9])
        (exiled, mandatesActive, mandatesRecalled, mandatesResigned) = (values[10], values[11], values[12], values[13])
    }

    /// This tally plus `after` minus `before` (a subject's change), or nil
    /// if any value would leave 64 bits.
    public func adding(_ after: Tally, minus before: Tally) -> Tally? {
        var values = self.values
        for (index, (new, old)) in zip(after.values, before.values).enumerated() {
            let (change, overflow) = new.subtractingReportingOverflow(old)
            let (sum, overflow2) = values[index].addingReportingOverflow(change)
            if overflow || overflow2 { return nil }
            values[index] = sum
        }
        return Tally(values: values)
    }

    public var isZero: Bool { values.allSatisfy { $0 == 0 } }
}

extension SubjectState {
    /// This subject's contribution to the Summary.
    public var tally: Tally {
        var tally = Tally()
        switch self {
        case .workplace(let state):
            if state.reported != nil { tally.workplaces = 1 }
            if let strike = state.strike?.value, strike.status.isStriking {
                tally.striking = 1
                tally.participants = strike.participants ?? 0
            }
        case .delegate(let state):
            guard let status = state.status else { break }
            switch status {
            case .active: tally.active = 1
            case .detained: tally.detained = 1
            case .missing: tally.missing = 1
            case .exiled: tally.exiled = 1
            case .recalled: tally.recalled = 1
            case .resigned: tally.resigned = 1
            }
            for (_, mandate) in state.mandateStatuses {
                switch mandate.value {
                case .active: tally.mandatesActive += 1
                case .recalled: tally.mandatesRecalled += 1
                case .resigned: tally.mandatesResigned += 1
                }
            }
        case .demand(let state):
            switch state.proposal?.value.category {
            case .economic: tally.economic = 1
            case .democratic: tally.democratic = 1
            case nil: break
            }
        case .council, .support, .outcome, .action, .participation:
            break
        }
        return tally
    }

    /// False for a subject that no message has touched (nothing to store).
    public var isEmpty: Bool {
        switch self {
        case .workplace(let s): s.reported == nil && s.strike == nil
        case .council(let s): s.formed == nil
        case .delegate(let s): s.mandates.isEmpty && s.recalls.isEmpty && s.resigned == nil && s.safety == nil
        case .demand(let s): s.proposal == nil
        case .support(let s): s.adoption == nil
        case .outcome(let s): s.outcome == nil
        case .action(let s): s.called == nil
        case .participation(let s): s.joined == nil
        }
    }
}
