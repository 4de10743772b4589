import GRDB
import PropertyBased
import StrikeCore
@testable import StrikeStore
import TestSupport
import Testing

/// Format v2's delegation (mandates per council, electing bodies, safety
/// apart from mandates): the store's incremental fold against the rules
/// replayed in words (`NaiveDelegation`), over random corpora with elections
/// from workplaces and councils at every level, recalls from the right and
/// the wrong bodies, v1 status and v2 safety reports, in any order and split.
@Suite struct DelegationContractTests {
    /// What the store holds of every delegate, as text to compare.
    static func storeState(_ store: Store) throws -> [String] {
        try store.read { db in
            var lines: [String] = []
            for row in try Row.fetchAll(db, sql: "SELECT id, status, safety FROM delegate WHERE status IS NOT NULL ORDER BY id") {
                lines.append("delegate \(row[0] as String) \(row[1] as String) \((row[2] as String?) ?? "-")")
            }
            for row in try Row.fetchAll(db, sql: "SELECT delegate, council, body_kind, body, status FROM mandate ORDER BY delegate, council") {
                lines.append("mandate \(row[0] as String) \(row[1] as String) \(row[2] as String):\(row[3] as String) \(row[4] as String)")
            }
            return lines
        }
    }

    static func naiveState(_ naive: NaiveDelegation) -> [String] {
        var lines: [String] = []
        for delegate in naive.mandates.keys.sorted() {
            lines.append("delegate \(delegate) \(naive.status(delegate)!.rawValue) \(naive.safety[delegate]?.rawValue ?? "-")")
        }
        for delegate in naive.mandates.keys.sorted() {
            for (council, mandate) in naive.mandates[delegate]!.sorted(by: { $0.key < $1.key }) {
                lines.append("mandate \(delegate) \(council) \(mandate.giver) \(mandate.status.rawValue)")
            }
        }
        return lines
    }

    static func storeIrregular(_ store: Store) async throws -> Set<String> {
        let (items, truncated) = try await store.read(Store.irregular(limit: 10_000))
        #expect(!truncated)
        var found = Set<String>()
        for item in items {
            #expect(!item.messages.isEmpty)
            switch item.kind {
            case .bodies: found.insert("bodies \(item.delegate) \(item.council!)")
            case .recall: found.insert("recall \(item.delegate) \(item.bodies[0])")
            case .level: found.insert("level \(item.delegate) \(item.bodies[0].id) \(item.council!)")
            }
        }
        return found
    }

    @Test func anyOrderAndSplitGiveTheNaiveReplaysDelegation() async throws {
        await propertyCheck(count: 25, input: Gen.int(in: 0...Int.max), Gen.int(in: 10...200)) { seed, size in
            let corpus = Corpus(seed: UInt64(seed), messages: size)
            var rng = SplitMix(seed: UInt64(seed) ^ 0x5EED)
            let directory = TemporaryDirectory()
            let first = try! Store(path: directory.path + "/a.sqlite")
            try! ingest(corpus.copies.shuffled(using: &rng), into: first, rng: &rng)
            let secondPath = directory.path + "/b.sqlite"
            let shuffled = corpus.copies.shuffled(using: &rng)
            let cut = Int.random(in: 0...shuffled.count, using: &rng)
            try! ingest(Array(shuffled[..<cut]), into: Store(path: secondPath), rng: &rng)
            let second = try! Store(path: secondPath)
            try! ingest(Array(shuffled[cut...]), into: second, rng: &rng)

            let naive = NaiveDelegation(oracleApplied(corpus.copies).applied)
            #expect(try! first.dump() == second.dump(), "seed \(seed) size \(size)")
            let state = try! Self.storeState(first)
            let expected = Self.naiveState(naive)
            #expect(state == expected, "seed \(seed) size \(size): \(state.difference(from: expected))")
            #expect(try! first.summary() == oracleSummary(corpus.copies), "seed \(seed) size \(size)")
            #expect(try! first.recomputedSummary() == first.summary())
            let irregular = try! await Self.storeIrregular(first)
            #expect(irregular == naive.irregular, "seed \(seed) size \(size): store \(irregular.subtracting(naive.irregular)), naive \(naive.irregular.subtracting(irregular))")
        }
    }

    /// The corpus does what the property needs: elections from councils,
    /// recalls that apply and recalls that do not, safety reports, and each
    /// kind of irregularity.
    @Test func theCorpusExercisesEveryRule() throws {
        let (applied, _, _) = oracleApplied(Corpus(seed: 17, messages: 3000).copies)
        let naive = NaiveDelegation(applied)
        let mandates = naive.mandates.values.flatMap(\.values)
        #expect(mandates.contains { if case .council = $0.giver { true } else { false } })
        #expect(Set(mandates.map(\.status)) == Set(MandateStatus.allCases))
        #expect(applied.contains { if case .delegateSafety = $0.body { true } else { false } })
        let kinds = Set(naive.irregular.map { $0.split(separator: " ")[0] })
        #expect(kinds == ["bodies", "recall", "level"])
    }

    /// §2b's example: a recalled delegate who is detained and released stays
    /// recalled (v1 made them active again); an arrest shows with its end.
    @Test func aRecalledDelegateDetainedAndReleasedStaysRecalled() async throws {
        let votes: JSONValue = .record(["for": 40, "against": 3])
        let directory = TemporaryDirectory()
        let store = try Store(path: directory.path + "/s.sqlite")
        _ = try store.ingest([
            message("mtz", 1, "delegate.elected", ["delegate": "rook", "workplace": "mtz", "council": "city", "votes": votes],
                    sentAt: "2020-08-20T09:00:00+03:00"),
            message("mtz", 2, "delegate.recalled", ["delegate": "rook", "workplace": "mtz", "votes": votes],
                    sentAt: "2020-08-21T09:00:00+03:00"),
            message("city", 1, "delegate.status", ["delegate": "rook", "status": "detained"], sentAt: "2020-08-22T09:00:00+03:00"),
            message("city", 2, "delegate.status", ["delegate": "rook", "status": "released"], sentAt: "2020-08-23T09:00:00+03:00"),
            message("city", 3, "delegate.safety", ["delegate": "wren", "status": "arrested", "until": "2020-09-07"],
                    sentAt: "2020-08-23T09:00:00+03:00"),
            message("bmz", 1, "delegate.elected", ["delegate": "wren", "from_council": "city", "council": "region", "votes": votes],
                    sentAt: "2020-08-20T09:00:00+03:00"),
        ].map { CopyInput(reading: reading($0), source: "t") }, now: 1_700_000_000)
        let summary = try store.summary()
        #expect(summary.delegates.recalled == 1 && summary.delegates.active == 0 && summary.delegates.detained == 1)
        #expect(summary.mandates.recalled == 1 && summary.mandates.active == 1)
        let rook = try #require(try await store.read(Store.getDelegate("rook")))
        #expect(rook.status == .recalled)
        #expect(rook.safety?.status == .free && rook.safety?.reported == MessageRef(at: "2020-08-23T06:00:00Z", origin: "city", seq: 2))
        #expect(rook.mandates.map(\.status) == [.recalled])
        let wren = try #require(try await store.read(Store.getDelegate("wren")))
        #expect(wren.status == .detained && wren.safety?.status == .arrested && wren.safety?.until == "2020-09-07")
        #expect(wren.mandates.first?.by == .council(Slug("city")!))
    }
}
