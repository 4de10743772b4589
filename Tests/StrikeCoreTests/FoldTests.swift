import PropertyBased
import StrikeCore
import Testing

// The fold (docs/design.md, "Reconciliation"): per-field last writer wins by order key, so any
// arrival order of the same messages gives the same state.

/// A valid message of origin `origin`, number `seq`, sent at `at`.
func msg(_ type: String, _ data: KeyValuePairs<String, JSONValue>, _ at: String, origin: String = "tractor-works", seq: Int64 = 1) throws -> Message {
    try valid(message(type, data, origin: origin, seq: seq, sentAt: at), policy: .stored)
}

/// The state of `subject` after applying `messages` one by one in this order.
func applied(_ subject: Subject, _ messages: [Message]) -> SubjectState {
    var state = SubjectState(empty: subject)
    for message in messages { state.apply(message) }
    return state
}

/// Checks that every order of `messages` (and applying each twice) gives the
/// same state, and returns it.
func stateInEveryOrder(_ messages: [Message], sourceLocation: SourceLocation = #_sourceLocation) throws -> SubjectState {
    let subject = try #require(messages.first, sourceLocation: sourceLocation).subject
    let reference = SubjectState.fold(subject, messages)
    for order in permutations(messages) {
        #expect(applied(subject, order) == reference, sourceLocation: sourceLocation)
    }
    // Idempotent: duplicates change nothing.
    #expect(applied(subject, messages + messages.reversed()) == reference, sourceLocation: sourceLocation)
    return reference
}

@Suite struct WorkplaceFold {
    @Test func perFieldLastWriterWins() throws {
        let messages = [
            try msg("workplace.reported", ["workplace": "tractor-works", "name": "Tractor Works", "town": "Minsk", "headcount": 17000],
                    "2020-08-17T08:00:00+03:00", seq: 1),
            try msg("workplace.reported", ["workplace": "tractor-works", "headcount": 16500, "kind": "factory"],
                    "2020-08-18T08:00:00+03:00", seq: 2),
            try msg("workplace.reported", ["workplace": "tractor-works", "name": "Tractor Works No. 1", "sector": "machine building"],
                    "2020-08-19T08:00:00+03:00", origin: "city-strike-council", seq: 5),
            try msg("workplace.reported", ["workplace": "tractor-works", "name": "Old name", "region": "Minsk", "ownership": "state", "headcount": 1],
                    "2020-08-16T08:00:00+03:00", origin: "motor-works", seq: 1),
        ]
        guard case .workplace(let state) = try stateInEveryOrder(messages) else { Issue.record("wrong state"); return }
        #expect(state.id == Slug("tractor-works"))
        #expect(state.name?.value == "Tractor Works No. 1")
        #expect(state.name?.key == messages[2].key)
        #expect(state.town?.value == "Minsk")
        #expect(state.headcount?.value == 16500)
        #expect(state.kind?.value == .factory)
        #expect(state.sector?.value == "machine building")
        #expect(state.region?.value == "Minsk")
        #expect(state.ownership?.value == .state)
        #expect(state.reported == messages[2].key)
        #expect(state.strike == nil)
    }

    /// The instant decides, not the text: 12:00+03:00 is 09:00Z, before 10:00Z.
    @Test func instantNotText() throws {
        let messages = [
            try msg("workplace.reported", ["workplace": "w", "town": "east"], "2020-08-24T12:00:00+03:00", seq: 1),
            try msg("workplace.reported", ["workplace": "w", "town": "utc"], "2020-08-24T10:00:00Z", seq: 2),
        ]
        guard case .workplace(let state) = try stateInEveryOrder(messages) else { Issue.record("wrong state"); return }
        #expect(state.town?.value == "utc")
    }

    /// At the same instant, origin and then seq break the tie.
    @Test func tiesBrokenByOriginThenSeq() throws {
        let at = "2020-08-24T09:30:00+03:00"
        let messages = [
            try msg("workplace.reported", ["workplace": "w", "name": "a1", "town": "a1"], at, origin: "a", seq: 1),
            try msg("workplace.reported", ["workplace": "w", "name": "b1"], at, origin: "b", seq: 1),
            try msg("workplace.reported", ["workplace": "w", "town": "a2"], at, origin: "a", seq: 2),
        ]
        guard case .workplace(let state) = try stateInEveryOrder(messages) else { Issue.record("wrong state"); return }
        #expect(state.name?.value == "b1")
        #expect(state.town?.value == "a2")
    }

    /// Status and participants come together from the greatest-key report: a
    /// later report without participants clears the earlier count.
    @Test func strikeStatusAndParticipantsTogether() throws {
        let messages = [
            try msg("strike.reported", ["workplace": "tractor-works", "status": "strike", "participants": 3000], "2020-08-17T08:10:00+03:00", seq: 2),
            try msg("strike.reported", ["workplace": "tractor-works", "status": "partial"], "2020-08-24T12:00:00+03:00", seq: 8),
            try msg("strike.reported", ["workplace": "tractor-works", "status": "working", "participants": 0], "2020-08-20T12:00:00+03:00", seq: 5),
            try msg("workplace.reported", ["workplace": "tractor-works", "name": "Tractor Works"], "2020-08-25T12:00:00+03:00", seq: 9),
        ]
        guard case .workplace(let state) = try stateInEveryOrder(messages) else { Issue.record("wrong state"); return }
        #expect(state.strike?.value.status == .partial)
        #expect(state.strike?.value.participants == nil)
        #expect(state.strike?.key == messages[1].key)
        // A workplace.reported does not touch the strike.
        #expect(state.name?.value == "Tractor Works")
    }

    @Test func strikeOnlyWorkplaceIsNotReported() throws {
        let message = try msg("strike.reported", ["workplace": "w", "status": "go-slow", "participants": 40], "2020-08-24T12:00:00+03:00")
        guard case .workplace(let state) = SubjectState.fold(message.subject, [message]) else { Issue.record("wrong state"); return }
        #expect(state.reported == nil)
        #expect(state.strike?.value.status == .goSlow)
        #expect(state.strike?.value.participants == 40)
    }
}

@Suite struct DelegateFold {
    static let rook = Subject.delegate(Slug("rook")!)

    func elected(_ at: String, seq: Int64, workplace: String = "tractor-works", council: String = "city-strike-council") throws -> Message {
        try msg("delegate.elected", [
            "delegate": "rook", "workplace": .string(workplace), "council": .string(council),
            "votes": .record(["for": 412, "against": 23]),
        ], at, seq: seq)
    }

    func electedByCouncil(_ at: String, seq: Int64, from: String, to council: String) throws -> Message {
        try msg("delegate.elected", [
            "delegate": "rook", "from_council": .string(from), "council": .string(council),
            "votes": .record(["for": 9, "against": 2]),
        ], at, seq: seq)
    }

    func status(_ event: String, _ at: String, seq: Int64) throws -> Message {
        try msg("delegate.status", ["delegate": "rook", "status": .string(event)], at, seq: seq)
    }

    func safety(_ status: String, _ at: String, seq: Int64, until: String? = nil) throws -> Message {
        var data: KeyValuePairs<String, JSONValue> = ["delegate": "rook", "status": .string(status)]
        if let until { data = ["delegate": "rook", "status": .string(status), "until": .string(until)] }
        return try msg("delegate.safety", data, at, seq: seq)
    }

    func recalled(_ at: String, seq: Int64, workplace: String = "tractor-works") throws -> Message {
        try msg("delegate.recalled", ["delegate": "rook", "workplace": .string(workplace), "votes": .record(["for": 300, "against": 12])], at, seq: seq)
    }

    func recalledByCouncil(_ at: String, seq: Int64, from: String) throws -> Message {
        try msg("delegate.recalled", ["delegate": "rook", "from_council": .string(from), "votes": .record(["for": 8, "against": 1])], at, seq: seq)
    }

    func delegate(_ state: SubjectState) -> DelegateState? {
        if case .delegate(let delegate) = state { return delegate }
        return nil
    }

    /// The story of one delegate, checked after each step, and the whole in
    /// every order. Safety and mandate are apart: a recall is not undone by
    /// a release.
    @Test func lifeOfADelegate() throws {
        let steps: [(Message, DelegateStatus, MandateStatus)] = [
            (try elected("2020-08-19T18:00:00+03:00", seq: 3), .active, .active),
            (try status("detained", "2020-08-24T09:30:00+03:00", seq: 7), .detained, .active),
            (try status("released", "2020-08-26T19:00:00+03:00", seq: 9), .active, .active),
            (try status("missing", "2020-08-27T07:00:00+03:00", seq: 10), .missing, .active),
            (try status("active", "2020-08-27T20:00:00+03:00", seq: 11), .active, .active),
            (try recalled("2020-08-28T18:00:00+03:00", seq: 12), .recalled, .recalled),
            (try safety("arrested", "2020-08-29T08:00:00+03:00", seq: 13, until: "2020-09-13"), .detained, .recalled),
            (try safety("free", "2020-09-13T18:00:00+03:00", seq: 14), .recalled, .recalled),
            (try status("resigned", "2020-09-14T18:00:00+03:00", seq: 15), .resigned, .resigned),
        ]
        for count in 1...steps.count {
            let prefix = steps.prefix(count)
            let state = delegate(SubjectState.fold(Self.rook, prefix.map(\.0)))
            #expect(state?.status == prefix.last?.1, "after \(count) steps")
            #expect(state?.mandateStatus(Slug("city-strike-council")!)?.value == prefix.last?.2, "after \(count) steps")
            #expect(state?.mandates[Slug("city-strike-council")!]?.giver?.value == .workplace(Slug("tractor-works")!))
        }
        // Five of the nine in every order (5! = 120), and all nine reversed.
        _ = try stateInEveryOrder(Array(steps.suffix(5).map(\.0)))
        let all = steps.map(\.0)
        #expect(applied(Self.rook, all.reversed()) == applied(Self.rook, all))
    }

    /// One pseudonym in two councils: elected by a workplace to the city
    /// council, and by the city council to the regional one. Each mandate
    /// has its own body; a recall by the workplace ends only the city seat.
    @Test func mandatesInTwoCouncils() throws {
        let city = try elected("2020-08-19T18:00:00+03:00", seq: 3)
        let region = try electedByCouncil("2020-08-21T18:00:00+03:00", seq: 4, from: "city-strike-council", to: "minsk-region")
        let recall = try recalled("2020-08-25T18:00:00+03:00", seq: 5)
        let state = try #require(delegate(try stateInEveryOrder([city, region, recall])))
        #expect(state.mandateStatus(Slug("city-strike-council")!)?.value == .recalled)
        #expect(state.mandateStatus(Slug("minsk-region")!)?.value == .active)
        #expect(state.status == .active)
        #expect(state.irregularities.isEmpty)
        #expect(SubjectState.delegate(state).tally.mandatesActive == 1 && SubjectState.delegate(state).tally.mandatesRecalled == 1)
    }

    /// A recall counts only from the body that gave the mandate (that of the
    /// greatest-key election); one from a body that never elected the
    /// delegate is listed as irregular and recalls nothing.
    @Test func recallFromTheWrongBody() throws {
        let election = try elected("2020-08-19T18:00:00+03:00", seq: 3)
        let wrong = try recalled("2020-08-22T18:00:00+03:00", seq: 5, workplace: "other-works")
        let byCouncil = try recalledByCouncil("2020-08-23T18:00:00+03:00", seq: 6, from: "city-strike-council")
        let state = try #require(delegate(try stateInEveryOrder([election, wrong, byCouncil])))
        #expect(state.status == .active)
        #expect(state.irregularities == [
            .recallWithoutMandate(body: .workplace(Slug("other-works")!), recall: wrong.key),
            .recallWithoutMandate(body: .council(Slug("city-strike-council")!), recall: byCouncil.key),
        ])
    }

    /// Two bodies elect one delegate to one council: the later election's
    /// body gives the mandate, and only its recall counts.
    @Test func twoBodiesOneCouncil() throws {
        let first = try elected("2020-08-19T18:00:00+03:00", seq: 3, workplace: "tractor-works")
        let second = try elected("2020-08-20T18:00:00+03:00", seq: 4, workplace: "auto-works")
        let recallByFirst = try recalled("2020-08-22T18:00:00+03:00", seq: 5, workplace: "tractor-works")
        let state = try #require(delegate(try stateInEveryOrder([first, second, recallByFirst])))
        #expect(state.mandates[Slug("city-strike-council")!]?.giver?.value == .workplace(Slug("auto-works")!))
        #expect(state.status == .active)
        guard case .electedByBodies(_, let elections)? = state.irregularities.first else {
            Issue.record("not listed: \(state.irregularities)")
            return
        }
        #expect(elections.map(\.key) == [first.key, second.key])
        let recallBySecond = try recalled("2020-08-23T18:00:00+03:00", seq: 6, workplace: "auto-works")
        #expect(delegate(try stateInEveryOrder([first, second, recallByFirst, recallBySecond]))?.status == .recalled)
    }

    /// A re-election after a recall makes the mandate active again; a recall
    /// or resignation older than the election does not count.
    @Test func reElectionAfterRecall() throws {
        let first = try elected("2020-08-19T18:00:00+03:00", seq: 3)
        let recall = try recalled("2020-08-22T18:00:00+03:00", seq: 5)
        let resigned = try status("resigned", "2020-08-23T18:00:00+03:00", seq: 6)
        let second = try elected("2020-08-25T18:00:00+03:00", seq: 8)
        #expect(delegate(try stateInEveryOrder([first, recall]))?.status == .recalled)
        #expect(delegate(try stateInEveryOrder([first, recall, resigned]))?.status == .resigned)
        #expect(delegate(try stateInEveryOrder([first, recall, resigned, second]))?.status == .active)
    }

    /// A resignation ends every mandate held at its key, and none given later.
    @Test func resignationEndsEveryMandateThen() throws {
        let city = try elected("2020-08-19T18:00:00+03:00", seq: 3)
        let region = try electedByCouncil("2020-08-20T18:00:00+03:00", seq: 4, from: "city-strike-council", to: "minsk-region")
        let resigned = try status("resigned", "2020-08-22T18:00:00+03:00", seq: 5)
        let nation = try electedByCouncil("2020-08-24T18:00:00+03:00", seq: 6, from: "minsk-region", to: "nation")
        let state = try #require(delegate(try stateInEveryOrder([city, region, resigned, nation])))
        // By council: city-strike-council, minsk-region (both held at the resignation), nation (given after it).
        #expect(state.mandateStatuses.map(\.council.rawValue) == ["city-strike-council", "minsk-region", "nation"])
        #expect(state.mandateStatuses.map(\.status.value) == [.resigned, .resigned, .active])
    }

    /// Safety alone (no election): the delegate is not counted.
    @Test func safetyWithoutAnElection() throws {
        let state = try #require(delegate(try stateInEveryOrder([try safety("exiled", "2020-09-01T12:00:00+03:00", seq: 2)])))
        #expect(state.status == nil)
        #expect(SubjectState.delegate(state).tally.isZero)
        #expect(!SubjectState.delegate(state).isEmpty)
    }

    @Test(arguments: [
        ("free", DelegateStatus.active), ("detained", .detained), ("arrested", .detained), ("charged", .detained),
        ("sentenced", .detained), ("missing", .missing), ("exiled", .exiled),
    ])
    func safetyMapsToStatus(report: String, expected: DelegateStatus) throws {
        let election = try elected("2020-08-19T18:00:00+03:00", seq: 3)
        let state = delegate(SubjectState.fold(Self.rook, [election, try safety(report, "2020-08-24T09:30:00+03:00", seq: 7)]))
        #expect(state?.status == expected)
    }

    @Test(arguments: [
        ("active", DelegateStatus.active), ("detained", .detained), ("missing", .missing),
        ("released", .active), ("resigned", .resigned),
    ])
    func v1EventMapsToStatus(event: String, expected: DelegateStatus) throws {
        let election = try elected("2020-08-19T18:00:00+03:00", seq: 3)
        let state = delegate(SubjectState.fold(Self.rook, [election, try status(event, "2020-08-24T09:30:00+03:00", seq: 7)]))
        #expect(state?.status == expected)
    }

    /// Property: any subset of events in any order folds the same, with
    /// duplicates or without.
    @Test func anyOrderFoldsTheSame() async throws {
        let events: [Message] = try (0..<14).map { index in
            let at = "2020-08-\(10 + index)T12:00:00+03:00"
            let seq = Int64(index + 1)
            switch index % 7 {
            case 0: return try elected(at, seq: seq, workplace: index % 2 == 0 ? "tractor-works" : "auto-works")
            case 1: return try status("detained", at, seq: seq)
            case 2: return try electedByCouncil(at, seq: seq, from: "city-strike-council", to: "region-\(index % 3)")
            case 3: return try recalled(at, seq: seq, workplace: index % 2 == 0 ? "tractor-works" : "auto-works")
            case 4: return try recalledByCouncil(at, seq: seq, from: "city-strike-council")
            case 5: return try safety(["free", "arrested", "exiled"][index % 3], at, seq: seq)
            default: return try status("resigned", at, seq: seq)
            }
        }
        await propertyCheck(count: 300, input: Gen<Int>.value(in: 0..<events.count).array(of: 1...14)) { picks in
            let chosen = picks.map { events[$0] }
            let folded = SubjectState.fold(Self.rook, chosen)
            #expect(applied(Self.rook, chosen.reversed()) == folded)
            #expect(applied(Self.rook, chosen.shuffled()) == folded)
            #expect(applied(Self.rook, chosen + chosen.shuffled()) == folded)
        }
    }
}

@Suite struct OtherFolds {
    @Test func councilFieldsLastWriterWins() throws {
        let messages = [
            try msg("council.formed", ["council": "city-strike-council", "name": "City Strike Committee", "level": "local"], "2020-08-18T10:00:00+03:00", origin: "city-strike-council", seq: 1),
            try msg("council.formed", ["council": "city-strike-council", "name": "City Strike Council", "level": "regional", "area": "Minsk"], "2020-08-19T10:00:00+03:00", origin: "city-strike-council", seq: 2),
            try msg("council.formed", ["council": "city-strike-council", "level": "local", "area": "Minsk and suburbs"], "2020-08-17T10:00:00+03:00", origin: "tractor-works", seq: 1),
        ]
        guard case .council(let state) = try stateInEveryOrder(messages) else { Issue.record("wrong state"); return }
        #expect(state.name?.value == "City Strike Council")
        #expect(state.level?.value == .regional)
        #expect(state.area?.value == "Minsk")
        #expect(state.formed == messages[1].key)
    }

    @Test func demandProposalLastWriterWins() throws {
        let messages = [
            try msg("demand.proposed", ["demand": "new-elections", "text": "New elections.", "category": "democratic"], "2020-08-20T10:00:00+03:00", seq: 1),
            try msg("demand.proposed", ["demand": "new-elections", "text": "New, free elections.", "category": "democratic"], "2020-08-21T10:00:00+03:00", seq: 2),
            try msg("demand.proposed", ["demand": "new-elections", "text": "Wrong category.", "category": "economic"], "2020-08-19T10:00:00+03:00", seq: 3),
        ]
        guard case .demand(let state) = try stateInEveryOrder(messages) else { Issue.record("wrong state"); return }
        #expect(state.proposal?.value.text == "New, free elections.")
        #expect(state.proposal?.value.category == .democratic)
    }

    @Test func supportAndOutcome() throws {
        let adoptions = [
            try msg("demand.adopted", ["demand": "new-elections", "workplace": "tractor-works", "votes": .record(["for": 380, "against": 5])], "2020-08-20T10:00:00+03:00", seq: 4),
            try msg("demand.adopted", ["demand": "new-elections", "workplace": "tractor-works"], "2020-08-21T10:00:00+03:00", seq: 5),
        ]
        guard case .support(let support) = try stateInEveryOrder(adoptions) else { Issue.record("wrong state"); return }
        // The greatest-key adoption, with its votes (none here).
        #expect(support.adoption?.key == adoptions[1].key)
        #expect(support.adoption?.value == nil)

        let outcomes = [
            try msg("demand.outcome", ["demand": "new-elections", "workplace": "tractor-works", "outcome": "presented"], "2020-08-21T10:00:00+03:00", seq: 6),
            try msg("demand.outcome", ["demand": "new-elections", "workplace": "tractor-works", "outcome": "rejected"], "2020-08-27T10:00:00+03:00", seq: 9),
            try msg("demand.outcome", ["demand": "new-elections", "workplace": "tractor-works", "outcome": "negotiating"], "2020-08-24T10:00:00+03:00", seq: 7),
        ]
        guard case .outcome(let outcome) = try stateInEveryOrder(outcomes) else { Issue.record("wrong state"); return }
        #expect(outcome.outcome?.value == .rejected)
    }

    @Test func actionFieldsLastWriterWins() throws {
        let messages = [
            try msg("action.called", ["action": "general-strike", "kind": "general-strike", "starts_at": "2020-08-28T08:00:00+03:00", "hours": 24, "demands": ["new-elections"]],
                    "2020-08-25T10:00:00+03:00", origin: "city-strike-council", seq: 6),
            try msg("action.called", ["action": "general-strike", "kind": "general-strike", "starts_at": "2020-08-28T05:00:00Z", "hours": 48, "text": "At least 48 hours."],
                    "2020-08-26T10:00:00+03:00", origin: "city-strike-council", seq: 7),
        ]
        guard case .action(let state) = try stateInEveryOrder(messages) else { Issue.record("wrong state"); return }
        #expect(state.hours?.value == 48)
        #expect(state.demands?.value == [Slug("new-elections")!])   // only the first set it
        #expect(state.text?.value == "At least 48 hours.")
        #expect(state.startsAt?.value.text == "2020-08-28T05:00:00Z")
        #expect(state.called == messages[1].key)
    }

    /// A join without a count does not erase an earlier count.
    @Test func participationSkipsJoinsWithoutACount() throws {
        let joins = [
            try msg("action.joined", ["action": "general-strike", "workplace": "tractor-works", "participants": 2500], "2020-08-28T07:30:00+03:00", seq: 11),
            try msg("action.joined", ["action": "general-strike", "workplace": "tractor-works"], "2020-08-28T12:00:00+03:00", seq: 13),
            try msg("action.joined", ["action": "general-strike", "workplace": "tractor-works", "participants": 900], "2020-08-28T06:00:00+03:00", seq: 10),
        ]
        guard case .participation(let state) = try stateInEveryOrder(joins) else { Issue.record("wrong state"); return }
        #expect(state.participants?.value == 2500)
        #expect(state.participants?.key == joins[0].key)
        #expect(state.joined == joins[1].key)
    }

    @Test func subjectsAndReferences() throws {
        let join = try msg("action.joined", ["action": "general-strike", "workplace": "tractor-works"], "2020-08-28T07:30:00+03:00")
        #expect(join.subject == .participation(action: Slug("general-strike")!, workplace: Slug("tractor-works")!))
        #expect(join.subject.key == "participation/general-strike/tractor-works")
        #expect(Set(join.references) == [EntityRef(.action, Slug("general-strike")!), EntityRef(.workplace, Slug("tractor-works")!)])

        let call = try msg("action.called", ["action": "a", "kind": "rally", "starts_at": "2020-08-30T14:00:00+03:00", "demands": ["x", "y", "x"]], "2020-08-26T10:00:00+03:00")
        #expect(call.references == [EntityRef(.action, Slug("a")!), EntityRef(.demand, Slug("x")!), EntityRef(.demand, Slug("y")!)])
    }
}

// MARK: - fold == incremental apply, for a mixed set

@Suite struct FoldEqualsApply {
    @Test func everySubjectOfTheExamplesStory() throws {
        // Messages of several subjects: grouped by subject, folding each group
        // equals applying its messages one by one in any order.
        let messages = [
            try msg("workplace.reported", ["workplace": "w", "name": "W"], "2020-08-17T08:00:00+03:00", seq: 1),
            try msg("strike.reported", ["workplace": "w", "status": "strike", "participants": 10], "2020-08-17T09:00:00+03:00", seq: 2),
            try msg("strike.reported", ["workplace": "w", "status": "working"], "2020-08-18T09:00:00+03:00", seq: 3),
            try msg("delegate.elected", ["delegate": "d", "workplace": "w", "council": "c", "votes": .record(["for": 3, "against": 1])], "2020-08-18T10:00:00+03:00", seq: 4),
            try msg("delegate.status", ["delegate": "d", "status": "missing"], "2020-08-19T10:00:00+03:00", seq: 5),
            try msg("action.joined", ["action": "a", "workplace": "w", "participants": 7], "2020-08-20T10:00:00+03:00", seq: 6),
            try msg("action.joined", ["action": "a", "workplace": "w"], "2020-08-21T10:00:00+03:00", seq: 7),
        ]
        let subjects = Set(messages.map(\.subject))
        #expect(subjects.count == 3)
        for subject in subjects {
            let group = messages.filter { $0.subject == subject }
            let folded = SubjectState.fold(subject, group)
            for order in permutations(group) {
                #expect(applied(subject, order) == folded)
            }
        }
    }
}
