import StrikeCore

/// The delegation rules of format v2 replayed as they are said in words, on
/// the applied messages in key order: an election makes the (delegate,
/// council) mandate active and its body the giver; a recall recalls every
/// mandate of the delegate its body gave at that moment; a v1 `resigned`
/// resigns every mandate held then; a safety report (or a v1 report that
/// counts as one) replaces the last. No keys are compared, on purpose: the
/// store's fold keeps only the greatest keys and must come to the same.
struct NaiveDelegation {
    struct Mandate: Equatable {
        var giver: ElectingBody
        var status: MandateStatus
        /// When its status last changed, in replay order.
        var changed: Int
    }

    /// Delegate → council → mandate.
    var mandates: [Slug: [Slug: Mandate]] = [:]
    var safety: [Slug: SafetyStatus] = [:]
    /// Delegate → council → every body that elected it there.
    var electors: [Slug: [Slug: Set<ElectingBody>]] = [:]
    /// Every recall: delegate, body, message.
    var recalls: [(delegate: Slug, body: ElectingBody, message: Message)] = []
    /// Every election from a council: delegate, from, to, message.
    var councilElections: [(delegate: Slug, from: Slug, to: Slug, message: Message)] = []
    /// The level each council's latest `council.formed` gives.
    var levels: [Slug: CouncilLevel] = [:]

    init(_ applied: [Message]) {
        for (step, message) in applied.enumerated() {
            switch message.body {
            case .councilFormed(let council, _, let level, _):
                levels[council] = level
            case .delegateElected(let delegate, let body, let council, _, _):
                mandates[delegate, default: [:]][council] = Mandate(giver: body, status: .active, changed: step)
                electors[delegate, default: [:]][council, default: []].insert(body)
                if case .council(let from) = body { councilElections.append((delegate, from, council, message)) }
            case .delegateRecalled(let delegate, let body, _):
                recalls.append((delegate, body, message))
                for (council, mandate) in mandates[delegate] ?? [:] where mandate.giver == body {
                    mandates[delegate]![council] = Mandate(giver: body, status: .recalled, changed: step)
                }
            case .delegateStatus(let delegate, let event, _):
                switch event {
                case .active, .released: safety[delegate] = .free
                case .detained: safety[delegate] = .detained
                case .missing: safety[delegate] = .missing
                case .resigned:
                    for (council, mandate) in mandates[delegate] ?? [:] {
                        mandates[delegate]![council] = Mandate(giver: mandate.giver, status: .resigned, changed: step)
                    }
                }
            case .delegateSafety(let delegate, let status, _, _):
                safety[delegate] = status
            default:
                break
            }
        }
    }

    /// As the Summary counts it; nil without an election.
    func status(_ delegate: Slug) -> DelegateStatus? {
        guard let held = mandates[delegate], !held.isEmpty else { return nil }
        switch safety[delegate] {
        case .detained, .arrested, .charged, .sentenced: return .detained
        case .missing: return .missing
        case .exiled: return .exiled
        case .free, nil: break
        }
        if held.values.contains(where: { $0.status == .active }) { return .active }
        let latest = held.values.max { $0.changed < $1.changed }!
        return latest.status == .recalled ? .recalled : .resigned
    }

    /// Irregular delegations as (kind, delegate, council or body) triples.
    var irregular: Set<String> {
        var found = Set<String>()
        for (delegate, councils) in electors {
            for (council, bodies) in councils where bodies.count > 1 {
                found.insert("bodies \(delegate) \(council)")
            }
        }
        for recall in recalls {
            let elected = electors[recall.delegate]?.values.contains { $0.contains(recall.body) } ?? false
            if !elected { found.insert("recall \(recall.delegate) \(recall.body)") }
        }
        for election in councilElections {
            if let from = levels[election.from], let to = levels[election.to], from.rank >= to.rank {
                found.insert("level \(election.delegate) \(election.from) \(election.to)")
            }
        }
        return found
    }
}
