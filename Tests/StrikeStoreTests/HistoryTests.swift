import PropertyBased
import StrikeCore
@testable import StrikeStore
import TestSupport
import Testing

/// The naive history of striking workplaces: for each step's end, the
/// applied messages sent before it, replayed in key order with plain
/// overwrites (the oracle of ContractTests, cut at an instant).
private func oracleStriking(_ applied: [Message], before end: Int64, region: String? = nil, workplace: Slug? = nil) -> (Int64, Int64) {
    var strike: [Slug: (StrikeStatus, Int64?)] = [:]
    var regions: [Slug: String] = [:]
    for message in applied.sorted(by: { $0.key < $1.key }) where message.sentAt.epochSeconds < end {
        switch message.body {
        case .workplaceReported(let report): if let name = report.region { regions[report.workplace] = name }
        case .strikeReported(let id, let status, let participants): strike[id] = (status, participants)
        default: break
        }
    }
    var striking: Int64 = 0, participants: Int64 = 0
    for (id, (status, count)) in strike where status.isStriking {
        if let region, regions[id] != region { continue }
        if let workplace, id != workplace { continue }
        striking += 1
        participants += count ?? 0
    }
    return (striking, participants)
}

@Suite struct HistoryTests {
    /// docs/protocol.md, "History": the last step equals the current state,
    /// overall, per region and per workplace, for any order and split of a
    /// corpus under random keyring scopes; every step equals the naive replay of the messages sent
    /// before its end; and the custody counts add up step by step.
    @Test func lastStepIsTheStateForAnyOrderAndSplit() async throws {
        await propertyCheck(count: 12, input: Gen.int(in: 0...Int.max), Gen.int(in: 3...150)) { seed, size in
            let corpus = Corpus(seed: UInt64(seed), messages: size)
            var rng = SplitMix(seed: UInt64(seed) ^ 0x5EED)
            // Under random keyring scopes: a report from another origin is
            // applied but moves nothing, in the history as in the state.
            let scopes = NaiveScopes(rng: &rng)
            let directory = TemporaryDirectory()
            let first = try! Store(path: directory.path + "/a.sqlite")
            try! ingest(corpus.copies.shuffled(using: &rng), into: first, rng: &rng, speakers: scopes.speakers)
            let second = try! Store(path: directory.path + "/b.sqlite")
            try! ingest(corpus.copies.reversed(), into: second, rng: &rng, speakers: scopes.speakers)
            let applied = oracleApplied(corpus.copies).applied.filter(scopes.admits)
            let summary = try! first.summary()

            func history(_ store: Store, _ subject: HistorySubject, _ step: HistoryStep) -> [HistoryPoint] {
                try! store.readNow(Store.history(subject: subject, from: nil, to: nil, step: step, page: PageRequest(limit: 1000)))!.points
            }
            for step in HistoryStep.allCases {
                let overall = history(first, .overall, step)
                #expect(overall == history(second, .overall, step), "seed \(seed) size \(size)")
                guard let last = overall.last else {
                    #expect(summary.striking == 0 && summary.delegates.detained == 0)
                    continue
                }
                #expect(last.striking == Int64(summary.striking), "seed \(seed) size \(size) \(step)")
                #expect(last.participants == Int64(summary.participants), "seed \(seed) size \(size) \(step)")
                #expect(last.detained == Int64(summary.delegates.detained), "seed \(seed) size \(size) \(step)")
                var held: Int64 = 0
                for point in overall {
                    held += point.taken - point.released
                    #expect(point.detained == held)
                    let naive = oracleStriking(applied, before: point.start + step.seconds)
                    #expect(point.striking == naive.0 && point.participants == naive.1, "seed \(seed) step \(point.start)")
                }
                for region in ["minsk", "grodno"] {
                    let points = history(first, .region(region), step)
                    #expect(points == history(second, .region(region), step))
                    let striking = try! first.readNow(Store.listWorkplaces(
                        WorkplaceQuery(region: region, town: nil, strike: .striking), page: PageRequest(limit: 1000))).items
                    let participants = striking.reduce(0) { $0 + ($1.participants ?? 0) }
                    #expect((points.last?.striking ?? 0) == Int64(striking.count), "seed \(seed) \(region)")
                    #expect((points.last?.participants ?? 0) == participants, "seed \(seed) \(region)")
                    for point in points {
                        let naive = oracleStriking(applied, before: point.start + step.seconds, region: region)
                        #expect(point.striking == naive.0 && point.participants == naive.1, "seed \(seed) \(region) \(point.start)")
                    }
                }
                // Both regions (and the whole state) in one pass: the same
                // steps as each alone, over the span of them all.
                let together = try! first.readNow(Store.histories(
                    subjects: [.region("minsk"), .overall, .region("grodno")], from: overall.first!.start, to: nil, step: step,
                    page: PageRequest(limit: 1000)))!
                #expect(together[1].points == overall)
                for (index, region) in [(0, "minsk"), (2, "grodno")] {
                    let alone = try! first.readNow(Store.history(
                        subject: .region(region), from: overall.first!.start, to: nil, step: step, page: PageRequest(limit: 1000)))!
                    #expect(together[index].points == alone.points, "seed \(seed) \(region) together")
                }
                for id in ["mtz", "naftan"] {
                    let slug = Slug(id)!
                    guard let points = try! first.readNow(Store.history(
                        subject: .workplace(slug), from: nil, to: nil, step: step, page: PageRequest())) else { continue }
                    let workplace = try! first.readNow(Store.getWorkplace(id))!.workplace
                    let (striking, participants): (Int64, Int64) = workplace.striking ? (1, workplace.participants ?? 0) : (0, 0)
                    #expect((points.points.last?.striking ?? 0) == striking, "seed \(seed) \(id)")
                    #expect((points.points.last?.participants ?? 0) == participants, "seed \(seed) \(id)")
                }
            }
        }
    }

    /// Pages of one step each walk the same steps as one page of all, and a
    /// cursor that is not a step's start is refused.
    @Test func pagesWalkTheSameSteps() throws {
        let corpus = Corpus(seed: 7, messages: 300)
        let directory = TemporaryDirectory()
        let store = try Store(path: directory.path + "/a.sqlite")
        var rng = SplitMix(seed: 7)
        try ingest(corpus.copies, into: store, rng: &rng)
        // Twelve hours before the corpus's morning: empty steps carry nothing.
        let from = Timestamp("2020-08-23T18:00:00Z")!.epochSeconds
        let all = try store.readNow(Store.history(subject: .overall, from: from, to: nil, step: .hour, page: PageRequest()))!
        #expect(all.points.count == 14 && all.next == nil)
        #expect(all.points.first?.striking == 0 && all.points.first?.start == from)
        #expect(all.newest?.hasPrefix("2020-08-24T0") == true)
        var cursor: String?
        var walked: [HistoryPoint] = []
        repeat {
            let page = try store.readNow(Store.history(subject: .overall, from: from, to: nil, step: .hour, page: PageRequest(limit: 1, cursor: cursor)))!
            #expect(page.points.count == 1)
            walked += page.points
            cursor = page.next
        } while cursor != nil
        #expect(walked == all.points)
        #expect(throws: QueryError.self) {
            try store.readNow(Store.history(subject: .overall, from: nil, to: nil, step: .hour, page: PageRequest(cursor: "1598252401")))
        }
        #expect(try store.readNow(Store.history(subject: .workplace(Slug("nowhere")!), from: nil, to: nil, step: .day, page: PageRequest())) == nil)
    }
}
