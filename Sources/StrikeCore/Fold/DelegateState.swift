/// A delegate: its mandates, one per council, and its safety, apart from them
/// (format v2, docs/messages.md "Delegation").
///
/// Every message about a delegate (elections, recalls, v1 status reports and
/// safety reports) folds into this one subject. A recall names its electing
/// body but not the council, and a v1 `resigned` resigns every mandate the
/// delegate holds, so the mandates of one delegate cannot be folded apart
/// from each other; a per-(delegate, council) subject would have made those
/// two messages touch an unknown number of subjects. A delegate holds a
/// handful of mandates, so the fold stays O(1) per message in practice.
///
/// What is kept is what the fold in key order needs, and no more, so that
/// each `apply` is a max over keys (commutative and idempotent):
/// - per mandate, the greatest-key election from each body that elected the
///   delegate to that council (more than one body is irregular);
/// - the greatest-key recall from each body;
/// - the greatest-key v1 `resigned`;
/// - the greatest-key safety report.
/// A mandate's status is then the latest of: its greatest election (active),
/// the greatest recall by that election's body, if later (recalled), and the
/// greatest resignation, if later (resigned). That is the fold in key order:
/// a recall before the mandate's last election, or by another body, never
/// decides, and of the events after the last election only the latest counts.
public struct DelegateState: Sendable, Equatable {
    public struct Mandate: Sendable, Equatable {
        /// The greatest-key election by each body that elected the delegate
        /// to this council. Never empty once stored.
        public var elections: [ElectingBody: OrderKey] = [:]

        public init() {}

        /// The body that gave the mandate: the greatest-key election's.
        public var giver: Stamped<ElectingBody>? {
            var best: Stamped<ElectingBody>?
            for (body, key) in elections where best == nil || best!.key < key {
                best = Stamped(body, at: key)
            }
            return best
        }
    }

    /// What the greatest-key safety report says.
    public struct Safety: Sendable, Equatable {
        public var status: SafetyStatus
        public var until: CalendarDate?

        public init(status: SafetyStatus, until: CalendarDate?) {
            self.status = status
            self.until = until
        }
    }

    public var id: Slug
    /// By council.
    public var mandates: [Slug: Mandate] = [:]
    /// The greatest-key recall by each body.
    public var recalls: [ElectingBody: OrderKey] = [:]
    /// The greatest key of a v1 `delegate.status` `resigned`.
    public var resigned: OrderKey?
    public var safety: Stamped<Safety>?

    public init(id: Slug) { self.id = id }

    /// Folds one message about this delegate in.
    mutating func apply(_ body: Body, at key: OrderKey) {
        switch body {
        case .delegateElected(_, let by, let council, _, _):
            mandates[council, default: Mandate()].elections[by].raise(to: key)
        case .delegateRecalled(_, let by, _):
            recalls[by].raise(to: key)
        case .delegateStatus(_, let event, _):
            // v1 reports: safety, except `resigned`, which ends mandates.
            switch event {
            case .active, .released: safety.take(Safety(status: .free, until: nil), at: key)
            case .detained: safety.take(Safety(status: .detained, until: nil), at: key)
            case .missing: safety.take(Safety(status: .missing, until: nil), at: key)
            case .resigned: resigned.raise(to: key)
            }
        case .delegateSafety(_, let status, let until, _):
            safety.take(Safety(status: status, until: until), at: key)
        default:
            preconditionFailure("a message of another subject applied to delegate \(id)")
        }
    }

    /// The status of the mandate in `council`, with the key of the event that
    /// set it; nil when the delegate was never elected there.
    public func mandateStatus(_ council: Slug) -> Stamped<MandateStatus>? {
        guard let giver = mandates[council]?.giver else { return nil }
        var status = Stamped(MandateStatus.active, at: giver.key)
        if let recall = recalls[giver.value], giver.key < recall {
            status = Stamped(.recalled, at: recall)
        }
        if let resigned, status.key < resigned {
            status = Stamped(.resigned, at: resigned)
        }
        return status
    }

    /// How the Summary counts this delegate; nil until it has an election.
    /// First match wins: detained (detained, arrested, charged, sentenced),
    /// missing, exiled, active (any active mandate), recalled (the latest
    /// event of its mandates was a recall), resigned.
    public var status: DelegateStatus? {
        guard !mandates.isEmpty else { return nil }
        switch safety?.value.status {
        case .detained?, .arrested?, .charged?, .sentenced?: return .detained
        case .missing?: return .missing
        case .exiled?: return .exiled
        case .free?, nil: break
        }
        var latest: Stamped<MandateStatus>?
        for council in mandates.keys {
            guard let status = mandateStatus(council) else { continue }
            if status.value == .active { return .active }
            if latest == nil || latest!.key < status.key { latest = status }
        }
        return latest?.value == .recalled ? .recalled : .resigned
    }

    /// The mandates' statuses, by council.
    public var mandateStatuses: [(council: Slug, status: Stamped<MandateStatus>)] {
        mandates.keys.sorted().compactMap { council in mandateStatus(council).map { (council, $0) } }
    }

    /// What the fold keeps but cannot reconcile, for Irregular(): a council
    /// the delegate was elected to by two or more bodies (their elections),
    /// and recalls by a body that never elected the delegate anywhere.
    /// Elections from a council to one of the same or a lower level need
    /// the councils' levels, which are other subjects: the store finds those.
    public var irregularities: [DelegateIrregularity] {
        var found: [DelegateIrregularity] = []
        for council in mandates.keys.sorted() {
            let elections = mandates[council]!.elections
            if elections.count > 1 {
                found.append(.electedByBodies(council: council, elections: elections.sorted { $0.value < $1.value }.map { ($0.key, $0.value) }))
            }
        }
        let electors = Set(mandates.values.flatMap(\.elections.keys))
        for (body, key) in recalls.sorted(by: { $0.value < $1.value }) where !electors.contains(body) {
            found.append(.recallWithoutMandate(body: body, recall: key))
        }
        return found
    }
}

/// A delegation the fold keeps but does not silently merge (Irregular()).
public enum DelegateIrregularity: Sendable, Equatable {
    /// Two or more bodies elected the delegate to one council; the greatest-
    /// key election's body gave the mandate. Each body's greatest election.
    case electedByBodies(council: Slug, elections: [(body: ElectingBody, key: OrderKey)])
    /// A recall by a body that never elected the delegate; it recalls nothing.
    case recallWithoutMandate(body: ElectingBody, recall: OrderKey)

    public static func == (lhs: DelegateIrregularity, rhs: DelegateIrregularity) -> Bool {
        switch (lhs, rhs) {
        case (.electedByBodies(let c1, let e1), .electedByBodies(let c2, let e2)):
            c1 == c2 && e1.map(\.body) == e2.map(\.body) && e1.map(\.key) == e2.map(\.key)
        case (.recallWithoutMandate(let b1, let k1), .recallWithoutMandate(let b2, let k2)):
            b1 == b2 && k1 == k2
        default: false
        }
    }
}
