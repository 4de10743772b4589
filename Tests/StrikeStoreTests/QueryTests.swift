import GRDB
import StrikeCore
@testable import StrikeStore
import TestSupport
import Testing

/// Builds one message's bytes.
func message(_ origin: String, _ seq: Int64, _ type: String, _ data: KeyValuePairs<String, JSONValue>,
             sentAt: String = "2020-08-24T09:00:00+03:00") -> [UInt8] {
    JSONWriter.bytes(.record([
        "v": 1, "origin": .string(origin), "seq": .number(JSONNumber(seq)), "sent_at": .string(sentAt),
        "type": .string(type), "data": .record(data),
    ]))
}

let queryNow: Int64 = 1_700_000_000

/// A small state that exercises every query: described and undescribed
/// entities, rejected and conflicting versions, gaps (one near 2^63).
func queryFixture() -> [[UInt8]] {
    let votes: JSONValue = .record(["for": 40, "against": 3, "abstain": 2])
    return [
        message("mtz", 1, "workplace.reported", ["workplace": "mtz", "name": "Minsk Tractor Works", "kind": "factory",
                                                 "town": "minsk", "region": "minsk", "ownership": "state", "headcount": 17000]),
        message("mtz", 2, "strike.reported", ["workplace": "mtz", "status": "strike", "participants": 300]),
        message("mtz", 5, "delegate.elected", ["delegate": "rook", "workplace": "mtz", "council": "city", "votes": votes]),
        message("bmz", 1, "workplace.reported", ["workplace": "bmz", "town": "zhodino", "region": "minsk"]),
        message("bmz", 2, "strike.reported", ["workplace": "bmz", "status": "working"]),
        message("bmz", 3, "delegate.elected", ["delegate": "wren", "workplace": "bmz", "council": "city", "votes": votes]),
        message("bmz", 4, "delegate.status", ["delegate": "wren", "status": "detained"], sentAt: "2020-08-25T09:00:00+03:00"),
        message("bmz", 5, "delegate.elected", ["delegate": "heron", "workplace": "naftan", "council": "region", "votes": votes]),
        message("azot", 1, "strike.reported", ["workplace": "azot", "status": "partial", "participants": 50]),
        message("azot", 2, "delegate.status", ["delegate": "finch", "status": "missing"]),
        message("city", 1, "council.formed", ["council": "city", "name": "City strike council", "level": "local"]),
        message("city", 2, "demand.proposed", ["demand": "wages", "text": "Restore the wage cuts", "category": "economic"]),
        message("city", 3, "demand.proposed", ["demand": "new-elections", "text": "New, fair elections", "category": "democratic"]),
        message("mtz", 6, "demand.adopted", ["demand": "wages", "workplace": "mtz", "votes": votes]),
        message("bmz", 6, "demand.adopted", ["demand": "wages", "workplace": "bmz"]),
        message("mtz", 7, "demand.outcome", ["demand": "wages", "workplace": "mtz", "outcome": "won"]),
        message("azot", 3, "demand.outcome", ["demand": "new-elections", "workplace": "azot", "outcome": "negotiating"]),
        message("mtz", 8, "demand.adopted", ["demand": "free-prisoners", "workplace": "mtz"]),
        message("city", 4, "action.called", ["action": "general-strike", "kind": "general-strike",
                                            "starts_at": "2020-10-26T00:00:00+03:00", "hours": 48, "demands": ["new-elections"]]),
        message("mtz", 9, "action.joined", ["action": "general-strike", "workplace": "mtz", "participants": 300]),
        message("bmz", 7, "action.joined", ["action": "general-strike", "workplace": "bmz"]),
        message("azot", 4, "action.joined", ["action": "march", "workplace": "azot", "participants": 20]),
        // Rejected: invalid with a readable envelope, unreadable bytes, and a conflict.
        message("azot", 9, "strike.reported", ["workplace": "azot", "status": "on-holiday"]),
        Array("not json at all".utf8),
        message("city", 10, "council.formed", ["council": "region", "level": "regional"]),
        message("city", 10, "council.formed", ["council": "region", "level": "national"]),
        // The highest seq there can be: one gap of 2^63 - 2.
        message("big", Int64.max, "council.formed", ["council": "far", "level": "national"]),
    ]
}

func fixtureStore(_ directory: TemporaryDirectory, copies: [[UInt8]] = queryFixture()) throws -> Store {
    let store = try Store(path: directory.path + "/state.db")
    let inputs = copies.enumerated().map { CopyInput(reading: reading($1, now: queryNow), source: "fixture/\($0)") }
    _ = try store.ingest(inputs, now: queryNow)
    return store
}

/// Reads every page of a list with the given page size.
func allPages<Item>(limit: Int, _ fetch: (PageRequest) async throws -> Page<Item>) async throws -> (items: [Item], pages: Int) {
    var items: [Item] = []
    var cursor: String?
    var pages = 0
    repeat {
        let page = try await fetch(PageRequest(limit: limit, cursor: cursor))
        items += page.items
        pages += 1
        cursor = page.next
        if pages > 10_000 { Issue.record("paging does not end"); break }
    } while cursor != nil
    return (items, pages)
}

@Suite struct QueryTests {
    @Test func workplacesAreListedByIdWithFilters() async throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let all = try await store.listWorkplaces(WorkplaceQuery(), page: PageRequest())
        #expect(all.items.map(\.id) == ["azot", "bmz", "mtz"])
        #expect(all.next == nil)
        let mtz = try #require(all.items.last)
        #expect(mtz.described && mtz.striking && mtz.kind == .factory && mtz.ownership == .state)
        #expect(mtz.headcount == 17000 && mtz.status == .strike && mtz.participants == 300)
        #expect(all.items[0].described == false && all.items[0].status == .partial)

        func ids(_ query: WorkplaceQuery) async throws -> [String] {
            try await store.listWorkplaces(query, page: PageRequest()).items.map(\.id)
        }
        #expect(try await ids(WorkplaceQuery(region: "minsk")) == ["bmz", "mtz"])
        #expect(try await ids(WorkplaceQuery(town: "zhodino")) == ["bmz"])
        #expect(try await ids(WorkplaceQuery(strike: .striking)) == ["azot", "mtz"])
        #expect(try await ids(WorkplaceQuery(strike: .status(.working))) == ["bmz"])
        #expect(try await ids(WorkplaceQuery(region: "minsk", strike: .striking)) == ["mtz"])
        #expect(try await ids(WorkplaceQuery(region: "grodno")) == [])
    }

    @Test func pagingVisitsEveryItemOnceAndClampsTheLimit() async throws {
        let dir = TemporaryDirectory()
        let copies = (1...1001).map { n in
            message("w", Int64(n), "workplace.reported", ["workplace": .string("w\(n)"), "region": n % 2 == 0 ? "even" : "odd"])
        }
        let store = try fixtureStore(dir, copies: copies)
        let paged = try await allPages(limit: 100) { try await store.listWorkplaces(WorkplaceQuery(), page: $0) }
        #expect(paged.pages == 11)
        #expect(paged.items.map(\.id) == (1...1001).map { "w\($0)" }.sorted())
        let odd = try await allPages(limit: 7) { try await store.listWorkplaces(WorkplaceQuery(region: "odd"), page: $0) }
        #expect(odd.items.count == 501)
        let huge = try await store.listWorkplaces(WorkplaceQuery(), page: PageRequest(limit: 5000))
        #expect(huge.items.count == PageRequest.maximumLimit && huge.next != nil)
        let tiny = try await store.listWorkplaces(WorkplaceQuery(), page: PageRequest(limit: 0))
        #expect(tiny.items.count == 1)
        let nested = try await store.listDemands(category: nil, workplace: nil, page: PageRequest(limit: 5000))
        #expect(nested.items.isEmpty)
    }

    @Test(arguments: ["Not A Slug", "", "-x", "x.y.z"])
    func aForeignCursorIsRefused(cursor: String) async throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        await #expect(throws: QueryError.self) {
            _ = try await store.listWorkplaces(WorkplaceQuery(), page: PageRequest(cursor: cursor))
        }
        await #expect(throws: QueryError.self) { _ = try await store.listRejected(page: PageRequest(cursor: cursor)) }
        await #expect(throws: QueryError.self) { _ = try await store.gaps(origin: nil, page: PageRequest(cursor: cursor)) }
        await #expect(throws: QueryError.self) { _ = try await store.unresolved(kind: nil, page: PageRequest(cursor: cursor)) }
    }

    @Test func aWorkplaceComesWithItsDelegatesDemandsAndActions() async throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let mtz = try #require(try await store.getWorkplace("mtz"))
        #expect(mtz.workplace.name == "Minsk Tractor Works")
        #expect(mtz.delegates == [DelegateRecord(id: "rook", workplace: "mtz", council: "city", status: .active, mandate: .active)])
        #expect(mtz.demands.map(\.demand) == ["free-prisoners", "wages"])
        #expect(mtz.demands[0].text == nil && mtz.demands[0].adopted && mtz.demands[0].outcome == nil)
        #expect(mtz.demands[1].votes == Votes(for: 40, against: 3, abstain: 2) && mtz.demands[1].outcome == .won)
        #expect(mtz.demands[1].category == .economic)
        #expect(mtz.actions == [WorkplaceActionRecord(action: "general-strike", kind: .generalStrike,
                                                      startsAt: "2020-10-26T00:00:00+03:00", participants: 300)])
        #expect(!mtz.truncated)

        let azot = try #require(try await store.getWorkplace("azot"))
        #expect(azot.demands.map(\.demand) == ["new-elections"] && azot.demands[0].adopted == false)
        #expect(azot.actions.map(\.action) == ["march"] && azot.actions[0].kind == nil)

        // Named by an election only: found, not described.
        let naftan = try #require(try await store.getWorkplace("naftan"))
        #expect(naftan.workplace.described == false && naftan.workplace.status == nil)
        #expect(naftan.delegates.map(\.id) == ["heron"])
        #expect(try await store.getWorkplace("nowhere") == nil)
    }

    /// A workplace's demands come from two tables (adoptions and outcomes),
    /// read apart and merged: in demand order, each once, cut at the limit.
    @Test func aWorkplacesDemandsAreMergedInOrderAndCut() async throws {
        let dir = TemporaryDirectory()
        // d-000 … d-159: adopted when even, an outcome when a multiple of 3;
        // odd non-multiples of 3 are named by neither.
        var copies: [[UInt8]] = []
        var seq: Int64 = 0
        for n in 0..<160 {
            let demand = JSONValue.string(String(format: "d-%03d", n))
            if n % 2 == 0 {
                seq += 1
                copies.append(message("plant", seq, "demand.adopted", ["demand": demand, "workplace": "plant"]))
            }
            if n % 3 == 0 {
                seq += 1
                copies.append(message("plant", seq, "demand.outcome", ["demand": demand, "workplace": "plant", "outcome": "won"]))
            }
        }
        let store = try fixtureStore(dir, copies: copies)
        let plant = try #require(try await store.getWorkplace("plant"))
        let named = (0..<160).filter { $0 % 2 == 0 || $0 % 3 == 0 }
        #expect(plant.truncated)
        #expect(plant.demands.map(\.demand) == named.prefix(WorkplaceDetail.listLimit).map { String(format: "d-%03d", $0) })
        for (n, demand) in zip(named, plant.demands) {
            #expect(demand.adopted == (n % 2 == 0), "\(demand.demand)")
            #expect(demand.outcome == (n % 3 == 0 ? .won : nil), "\(demand.demand)")
        }
    }

    /// GetWorkplace reads each of its lists from an index alone, in the
    /// order it returns them: no look-up of each row in its table, no sort.
    @Test func aWorkplacesListsComeFromIndexesAlone() throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        for (sql, index) in [
            (Store.workplaceDelegatesSQL, "mandate_body"), (Store.workplaceAdoptionsSQL, "support_workplace"),
            (Store.workplaceOutcomesSQL, "outcome_workplace"), (Store.workplaceActionsSQL, "participation_workplace"),
        ] {
            let plan = try store.pool.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: ["mtz", 101]).map { $0["detail"] as String }
            }
            #expect(plan.contains { $0.contains("COVERING INDEX \(index)") }, "\(plan)")
            #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
        }
    }

    @Test func delegatesNeedAnElection() async throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let page = PageRequest()
        #expect(try await store.listDelegates(DelegateQuery(), page: page).items.map(\.id) == ["heron", "rook", "wren"])
        #expect(try await store.listDelegates(DelegateQuery(status: .detained), page: page).items.map(\.id) == ["wren"])
        #expect(try await store.listDelegates(DelegateQuery(council: "city"), page: page).items.map(\.id) == ["rook", "wren"])
        #expect(try await store.listDelegates(DelegateQuery(workplace: "bmz", council: "city"), page: page).items.map(\.id) == ["wren"])
        let councils = try await store.listCouncils(page: page).items
        #expect(councils == [
            CouncilRecord(id: "city", name: "City strike council", level: .local, area: nil, activeDelegates: 1),
            CouncilRecord(id: "far", name: nil, level: .national, area: nil, activeDelegates: 0),
        ])
    }

    /// Counting a council's active delegates goes through that council's
    /// mandates (mandate_council), not through every active delegate of
    /// every council (delegate_status): 1.9 s on a 150,000-delegate store.
    @Test func councilsCountTheirOwnDelegates() throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let plan = try store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + Store.listCouncilsSQL, arguments: ["", 10]).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("mandate_council") }, "\(plan)")
        #expect(!plan.contains { $0.contains("delegate_status") }, "\(plan)")
    }

    @Test func demandsCarryTheirSupportBounded() async throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let demands = try await store.listDemands(category: nil, workplace: nil, page: PageRequest()).items
        #expect(demands.map(\.id) == ["new-elections", "wages"])
        let wages = demands[1]
        #expect(wages.supporters == 2 && wages.outcomes.won == 1 && wages.outcomes.presented == 0)
        #expect(wages.workplaces.map(\.workplace) == ["bmz", "mtz"] && !wages.moreWorkplaces)
        #expect(wages.workplaces[0].votes == nil && wages.workplaces[0].adopted)
        #expect(demands[0].supporters == 0 && demands[0].outcomes.negotiating == 1)
        #expect(demands[0].workplaces == [DemandWorkplaceRecord(workplace: "azot", adopted: false, votes: nil, outcome: .negotiating)])
        #expect(try await store.listDemands(category: .economic, workplace: nil, page: PageRequest()).items.map(\.id) == ["wages"])
        #expect(try await store.listDemands(category: nil, workplace: "azot", page: PageRequest()).items.map(\.id) == ["new-elections"])

        // A demand named but never proposed still has its workplaces.
        let prisoners = try #require(try await store.listDemandWorkplaces(demand: "free-prisoners", page: PageRequest()))
        #expect(prisoners.items.map(\.workplace) == ["mtz"])
        #expect(try await store.listDemandWorkplaces(demand: "nothing", page: PageRequest()) == nil)
    }

    @Test func manySupportersAreCutInlineAndPagedSeparately() async throws {
        let dir = TemporaryDirectory()
        var copies = [message("c", 1, "demand.proposed", ["demand": "wages", "text": "Wages", "category": "economic"])]
        copies += (1...25).map { n in message("c", Int64(n + 1), "demand.adopted", ["demand": "wages", "workplace": .string("w\(n)")]) }
        copies += [message("c", 30, "action.called", ["action": "march", "kind": "march", "starts_at": "2020-08-30T14:00:00+03:00"])]
        copies += (1...25).map { n in
            message("c", Int64(n + 30), "action.joined", ["action": "march", "workplace": .string("w\(n)"), "participants": 10])
        }
        let store = try fixtureStore(dir, copies: copies)
        let wages = try #require(try await store.listDemands(category: nil, workplace: nil, page: PageRequest()).items.first)
        #expect(wages.workplaces.count == DemandRecord.inlineWorkplaces && wages.moreWorkplaces && wages.supporters == 25)
        let all = try await allPages(limit: 4) { try #require(try await store.listDemandWorkplaces(demand: "wages", page: $0)) }
        #expect(all.items.count == 25 && all.pages == 7)

        let march = try #require(try await store.listActions(workplace: nil, page: PageRequest()).items.first)
        #expect(march.joined == 25 && march.participants == 250 && march.moreWorkplaces && march.demands == [])
        #expect(march.workplaces.count == ActionRecord.inlineWorkplaces)
        let joined = try await allPages(limit: 10) { try #require(try await store.listActionWorkplaces(action: "march", page: $0)) }
        #expect(Set(joined.items.map(\.workplace)).count == 25)
    }

    @Test func actionsCarryWhoJoined() async throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let actions = try await store.listActions(workplace: nil, page: PageRequest()).items
        #expect(actions.map(\.id) == ["general-strike"])
        let strike = actions[0]
        #expect(strike.kind == .generalStrike && strike.hours == 48 && strike.demands == ["new-elections"])
        #expect(strike.joined == 2 && strike.participants == 300)
        #expect(strike.workplaces == [ActionWorkplaceRecord(workplace: "bmz", participants: nil),
                                      ActionWorkplaceRecord(workplace: "mtz", participants: 300)])
        #expect(try await store.listActions(workplace: "azot", page: PageRequest()).items.isEmpty)
        let march = try #require(try await store.listActionWorkplaces(action: "march", page: PageRequest()))
        #expect(march.items == [ActionWorkplaceRecord(workplace: "azot", participants: 20)])
        #expect(try await store.listActionWorkplaces(action: "sit-in", page: PageRequest()) == nil)
    }

    @Test func rejectedVersionsAreListedOldestFirst() async throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let later = message("late", 1, "strike.reported", ["workplace": "x", "status": "bad"])
        _ = try store.ingest([CopyInput(reading: reading(later, now: queryNow + 60), source: "late.json")], now: queryNow + 60)
        let all = try await allPages(limit: 2) { try await store.listRejected(page: $0) }
        #expect(all.items.count == 5)
        #expect(all.items.filter { $0.code == "conflict" }.count == 2)
        #expect(all.items.filter { $0.code == "json" }.map(\.origin) == [nil])
        let invalid = try #require(all.items.first { $0.origin == "azot" })
        #expect(invalid.seq == 9 && invalid.code == "bad-value" && invalid.source == "fixture/22" && invalid.firstSeen == queryNow)
        #expect(invalid.hash.count == 64)
        #expect(all.items.last?.source == "late.json")
        let summary = try store.summary()
        #expect(summary.messages.rejected == all.items.count)
    }

    @Test func gapsAreRangesEvenNearTheTopOfSeq() async throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let gaps = try await allPages(limit: 1) { try await store.gaps(origin: nil, page: $0) }
        #expect(gaps.items == [
            GapRecord(origin: "azot", first: 5, last: 8),
            GapRecord(origin: "big", first: 1, last: Int64.max - 1),
            GapRecord(origin: "city", first: 5, last: 9),
            GapRecord(origin: "mtz", first: 3, last: 4),
        ])
        #expect(gaps.items[1].missing == Int64.max - 1)
        #expect(try await store.gaps(origin: "mtz", page: PageRequest()).items == [GapRecord(origin: "mtz", first: 3, last: 4)])
        #expect(try await store.gaps(origin: "bmz", page: PageRequest()).items.isEmpty)
    }

    /// Gaps of random arrivals, read in pages of every size, against the
    /// ranges worked out by hand; each origin alone too.
    @Test func gapsMatchANaiveComputationInAnyPageSize() async throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.path + "/state.db")
        var rng = SplitMix(seed: 2020)
        var arrivals: [String: Set<Int64>] = [:]
        for origin in ["a", "b", "c-1", "d", "e"] {
            let count = Int.random(in: 0...40, using: &rng)
            arrivals[origin] = Set((0..<count).map { _ in Int64.random(in: 1...60, using: &rng) })
        }
        arrivals["f"] = Set(1...30)
        arrivals["g"] = [Int64.max]
        let rows = arrivals
        try await store.pool.write { db in
            for (origin, seqs) in rows {
                for seq in seqs { try db.execute(sql: "INSERT INTO arrival (origin, seq) VALUES (?, ?)", arguments: [origin, seq]) }
            }
        }
        func expected(_ origins: [String]) -> [GapRecord] {
            origins.sorted().flatMap { origin -> [GapRecord] in
                var previous: Int64 = 0
                var gaps: [GapRecord] = []
                for seq in (arrivals[origin] ?? []).sorted() {
                    if seq > previous + 1 { gaps.append(GapRecord(origin: origin, first: previous + 1, last: seq - 1)) }
                    previous = seq
                }
                return gaps
            }
        }
        for limit in [1, 2, 3, 7, 1000] {
            let all = try await allPages(limit: limit) { try await store.gaps(origin: nil, page: $0) }
            #expect(all.items == expected(Array(arrivals.keys)), "page size \(limit)")
            for origin in arrivals.keys {
                let one = try await allPages(limit: limit) { try await store.gaps(origin: origin, page: $0) }
                #expect(one.items == expected([origin]), "\(origin), page size \(limit)")
            }
        }
    }

    @Test func unresolvedListsWhatIsNamedButNotDescribed() async throws {
        let dir = TemporaryDirectory()
        let store = try fixtureStore(dir)
        let all = try await allPages(limit: 2) { try await store.unresolved(kind: nil, page: $0) }
        let found = all.items.map { "\($0.kind.rawValue)/\($0.id)" }
        #expect(found == ["action/march", "council/region", "delegate/finch", "demand/free-prisoners",
                          "workplace/azot", "workplace/naftan"])
        #expect(all.items.first { $0.id == "azot" }?.messages == 3)
        #expect(try await store.unresolved(kind: .delegate, page: PageRequest()).items.map(\.id) == ["finch"])
    }

    @Test func changesAreDerivedFromAnIngest() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.path + "/state.db")
        let first = message("a", 1, "council.formed", ["council": "c", "level": "local"])
        let rival = message("a", 1, "council.formed", ["council": "c", "level": "national"])
        let copies = [first, first, Array("{".utf8), rival].enumerated().map {
            CopyInput(reading: reading($1, now: queryNow), source: "copy-\($0)")
        }
        let (outcomes, events) = try store.ingest(copies, now: queryNow)
        let changes = Change.changes(copies: copies, outcomes: outcomes, events: events)
        #expect(changes == [
            Change(origin: "a", seq: 1, type: "council.formed", subject: "council/c", outcome: .applied, code: nil),
            Change(origin: nil, seq: nil, type: nil, subject: nil, outcome: .rejected, code: "json"),
            Change(origin: "a", seq: 1, type: "council.formed", subject: "council/c", outcome: .conflict, code: "conflict"),
            Change(origin: "a", seq: 1, type: nil, subject: nil, outcome: .removed, code: nil),
        ])
    }
}

extension QueryTests {
@Suite struct ChangeFeedTests {
    static func change(_ seq: Int64) -> Change {
        Change(origin: "o", seq: seq, type: "council.formed", subject: "council/c", outcome: .applied, code: nil)
    }

    @Test func everyWatcherGetsEveryChangeInOrder() async {
        let feed = ChangeFeed()
        let one = feed.subscribe()
        let two = feed.subscribe()
        #expect(feed.subscriberCount == 2)
        feed.publish((1...3).map(Self.change))
        feed.finish()
        var seen: [[Int64]] = []
        for subscription in [one, two] {
            var seqs: [Int64] = []
            for await change in subscription.changes { seqs.append(change.seq ?? 0) }
            seen.append(seqs)
            #expect(!subscription.overflowed)
        }
        #expect(seen == [[1, 2, 3], [1, 2, 3]])
        #expect(feed.subscriberCount == 0)
        // After finish, new watchers end at once.
        var after = 0
        for await _ in feed.subscribe().changes { after += 1 }
        #expect(after == 0)
    }

    @Test func aWatcherThatFallsBehindIsCutOffNotSkipped() async {
        let feed = ChangeFeed(bufferSize: 4)
        let slow = feed.subscribe()
        // One commit larger than the buffer is delivered whole; the next one
        // finds 10 changes unread, more than 4: the watcher is cut off.
        feed.publish((1...10).map(Self.change))
        feed.publish([Self.change(11)])
        var seqs: [Int64] = []
        for await change in slow.changes { seqs.append(change.seq ?? 0) }
        #expect(slow.overflowed)
        #expect(seqs == Array(1...10))
        #expect(feed.subscriberCount == 0)
    }

    /// A commit of more than `bufferSize` changes used to cut off every
    /// watcher, busy or idle: the whole commit went into the buffer before any
    /// of them ran. A watcher that keeps up takes commits of any size.
    @Test func aWatcherThatKeepsUpTakesCommitsLargerThanItsBuffer() async {
        let feed = ChangeFeed(bufferSize: 8)
        let watcher = feed.subscribe()
        var iterator = watcher.changes.makeAsyncIterator()
        var seqs: [Int64] = []
        for commit in 0..<5 {
            feed.publish((1...20).map { Self.change(Int64(commit * 20 + $0)) })
            for _ in 0..<20 { if let change = await iterator.next() { seqs.append(change.seq ?? 0) } }
        }
        feed.finish()
        while let change = await iterator.next() { seqs.append(change.seq ?? 0) }
        #expect(!watcher.overflowed)
        #expect(seqs == Array(1...100))
    }

    @Test func cancellingTheWatcherUnsubscribes() async {
        let feed = ChangeFeed()
        let subscription = feed.subscribe()
        let task = Task {
            for await _ in subscription.changes {}
        }
        task.cancel()
        await task.value
        #expect(feed.subscriberCount == 0)
    }
}
}
