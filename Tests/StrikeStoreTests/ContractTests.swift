import Foundation
import GRDB
import PropertyBased
import StrikeCore
@testable import StrikeStore
import TestSupport
import Testing

func reading(_ bytes: [UInt8], now: Int64 = 1_700_000_000) -> CopyReading {
    MessageReader.read(bytes, policy: ValidationPolicy(now: now))
}

/// Ingests `copies` into `store` in batches of random sizes.
func ingest(_ copies: [[UInt8]], into store: Store, rng: inout SplitMix, speakers: Speakers = .everyone) throws {
    var index = 0
    while index < copies.count {
        let size = Int.random(in: 1...max(1, copies.count / 3), using: &rng)
        let batch = copies[index..<min(copies.count, index + size)].enumerated().map { offset, bytes in
            CopyInput(reading: reading(bytes), source: "copy-\(index + offset)")
        }
        _ = try store.ingest(batch, now: 1_700_000_000, speakers: speakers)
        index += size
    }
}

/// The applied messages of the contract computed the naive way (see
/// `oracleReplay`), with the duplicates and rejected counts.
func oracleApplied(_ copies: [[UInt8]]) -> (applied: [Message], duplicates: Int, rejected: Int) {
    let replay = oracleReplay(copies)
    return (replay.applied, copies.count - replay.identities, replay.rejected)
}

/// The contract's Summary computed the naive way: a replay of the applied
/// messages in key order with plain overwrites. Independent of the store's
/// incremental fold, on purpose.
///
/// `admits` says which applied messages move the state (scopes); the others
/// count as applied and change nothing else.
func oracleSummary(_ copies: [[UInt8]], admits: (Message) -> Bool = { _ in true }) -> Summary {
    let (all, duplicates, rejected) = oracleApplied(copies)
    let applied = all.filter(admits)
    var described = Set<Slug>()
    var strike: [Slug: (StrikeStatus, Int64?)] = [:]
    var category: [Slug: DemandCategory] = [:]
    for message in applied {
        switch message.body {
        case .workplaceReported(let report): described.insert(report.workplace)
        case .strikeReported(let workplace, let status, let participants): strike[workplace] = (status, participants)
        case .demandProposed(let demand, _, let cat, _): category[demand] = cat
        default: break
        }
    }
    var summary = Summary()
    summary.workplaces = described.count
    for (_, (status, participants)) in strike where status.isStriking {
        summary.striking += 1
        summary.participants += Int(participants ?? 0)
    }
    let delegation = NaiveDelegation(applied)
    for delegate in delegation.mandates.keys {
        switch delegation.status(delegate)! {
        case .active: summary.delegates.active += 1
        case .detained: summary.delegates.detained += 1
        case .missing: summary.delegates.missing += 1
        case .exiled: summary.delegates.exiled += 1
        case .recalled: summary.delegates.recalled += 1
        case .resigned: summary.delegates.resigned += 1
        }
        for mandate in delegation.mandates[delegate]!.values {
            switch mandate.status {
            case .active: summary.mandates.active += 1
            case .recalled: summary.mandates.recalled += 1
            case .resigned: summary.mandates.resigned += 1
            }
        }
    }
    summary.demands.economic = category.values.filter { $0 == .economic }.count
    summary.demands.democratic = category.values.filter { $0 == .democratic }.count
    summary.messages.applied = all.count
    summary.messages.duplicates = duplicates
    summary.messages.rejected = rejected
    return summary
}

@Suite struct ContractTests {
    /// docs/design.md, "Reconciliation": any order, any split into batches and runs, any duplicates
    /// give the same state, and that state's Summary is the contract's.
    @Test func anyOrderAndSplitGiveTheSameState() async throws {
        await propertyCheck(count: 20, input: Gen.int(in: 0...Int.max), Gen.int(in: 3...150)) { seed, size in
            let corpus = Corpus(seed: UInt64(seed), messages: size)
            var rng = SplitMix(seed: UInt64(seed) ^ 0xABCDEF)
            let directory = TemporaryDirectory()

            let first = try! Store(path: directory.path + "/a.sqlite")
            try! ingest(corpus.copies.shuffled(using: &rng), into: first, rng: &rng)

            // The second store gets another order, split across two runs that
            // close and reopen the database.
            let second = directory.path + "/b.sqlite"
            let shuffled = corpus.copies.shuffled(using: &rng)
            let cut = Int.random(in: 0...shuffled.count, using: &rng)
            try! ingest(Array(shuffled[..<cut]), into: Store(path: second), rng: &rng)
            let reopened = try! Store(path: second)
            try! ingest(Array(shuffled[cut...]), into: reopened, rng: &rng)

            let dumpA = try! first.dump()
            let dumpB = try! reopened.dump()
            #expect(dumpA == dumpB, "seed \(seed) size \(size)")
            let summary = try! first.summary()
            #expect(summary == oracleSummary(corpus.copies), "seed \(seed) size \(size)")
            #expect(differences(try! storeTables(first), oracleTables(corpus.copies)) == [], "seed \(seed) size \(size)")
            #expect(summary == (try! first.recomputedSummary()))
            #expect(try! first.entityCounts(recomputed: false) == first.entityCounts(recomputed: true), "seed \(seed) size \(size)")
            #expect(try! reopened.summary() == summary)
        }
    }

    /// Tens of thousands of copies (duplicates, reformatted copies, conflicts,
    /// invalid copies), in two orders and batch splits: the contract's Summary
    /// and identical dumps.
    @Test func largeCorpusMatchesTheOracle() throws {
        let corpus = Corpus(seed: 20_200_809, messages: 12_000)
        #expect(corpus.copies.count > 20_000)
        let directory = TemporaryDirectory()
        var rng = SplitMix(seed: 99)
        let first = try Store(path: directory.path + "/a.sqlite")
        try ingest(corpus.copies.shuffled(using: &rng), into: first, rng: &rng)
        let second = try Store(path: directory.path + "/b.sqlite")
        try ingest(corpus.copies.reversed(), into: second, rng: &rng)
        let summary = try first.summary()
        #expect(summary == oracleSummary(corpus.copies))
        #expect(try differences(storeTables(first), oracleTables(corpus.copies)) == [])
        #expect(summary.messages.duplicates > 1000 && summary.messages.rejected > 100, "the corpus exercises duplicates and rejections")
        #expect(try first.dump() == second.dump())
        #expect(try first.recomputedSummary() == summary)
        #expect(try first.entityCounts(recomputed: false) == first.entityCounts(recomputed: true))
        #expect(try !first.entityCounts(recomputed: false).isEmpty)
    }

    /// Conflicts of two to five versions of one (origin, seq), some of them
    /// arriving after one version was applied and re-folded out: every field
    /// of every row is the naive replay's, in any order and batches.
    @Test(arguments: [31, 32, 33, 34] as [UInt64]) func conflictsOfManyVersionsMatchTheOracle(seed: UInt64) throws {
        let corpus = Corpus(seed: seed, messages: 400, conflictOneIn: 4, rivals: 1...4)
        let oracle = oracleTables(corpus.copies)
        let directory = TemporaryDirectory()
        var rng = SplitMix(seed: seed)
        for (index, order) in [corpus.copies, corpus.copies.reversed(), corpus.copies.shuffled(using: &rng)].enumerated() {
            let store = try Store(path: directory.path + "/\(index).sqlite")
            try ingest(order, into: store, rng: &rng)
            #expect(try differences(storeTables(store), oracle) == [], "seed \(seed) order \(index)")
            #expect(try store.summary() == oracleSummary(corpus.copies))
            #expect(try store.summary() == store.recomputedSummary())
        }
        let conflicts = try Store(path: directory.path + "/0.sqlite").pool.read { db in
            try Int.fetchAll(db, sql: "SELECT count(*) FROM version WHERE state = 'conflict' GROUP BY origin, seq")
        }
        #expect(conflicts.contains { $0 >= 3 }, "conflicts of three and more versions: \(conflicts)")
        #expect(oracle["workplace"]!.count > 3 && oracle["participation"]!.count > 3 && oracle["support"]!.count > 3)
    }

    /// Running again on the same copies changes nothing but `duplicates`.
    @Test func reingestingOnlyCountsDuplicates() throws {
        let corpus = Corpus(seed: 7, messages: 80)
        let directory = TemporaryDirectory()
        let store = try Store(path: directory.path + "/s.sqlite")
        var rng = SplitMix(seed: 1)
        try ingest(corpus.copies, into: store, rng: &rng)
        let before = try store.summary()
        let dumpBefore = try store.dump()
        try ingest(corpus.copies, into: store, rng: &rng)
        var after = try store.summary()
        #expect(after.messages.duplicates == before.messages.duplicates + corpus.copies.count)
        after.messages.duplicates = before.messages.duplicates
        #expect(after == before)
        let strip = { (dump: String) in dump.split(separator: "\n").filter { !$0.hasPrefix("\"duplicates\"") }.joined(separator: "\n") }
        let a = strip(try store.dump()).split(separator: "\n"), b = strip(dumpBefore).split(separator: "\n")
        #expect(a == b, "\(a.difference(from: b))")
    }
}
