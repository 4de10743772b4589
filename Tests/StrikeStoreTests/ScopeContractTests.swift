import Foundation
import GRDB
import PropertyBased
import StrikeCore
@testable import StrikeStore
import TestSupport
import Testing

/// Who speaks for whom (docs/messages.md, "Scopes"), said in words for the
/// oracle: an origin's scopes as text, matched as text, and the body of each
/// type written out again, independent of `BodyRef.about` and `Speakers`.
struct NaiveScopes {
    /// Origin → scope words; origins not here get `unlistedEverything`'s rule.
    var table: [String: [String]]
    var unlistedEverything: Bool

    /// Random scopes over the corpus's origins, workplaces and councils:
    /// each origin has listed scopes (one to three, wildcards among them)
    /// or none, and the unlisted rule is random too.
    init(rng: inout SplitMix) {
        let words = Corpus.workplacesForScopes.map { "workplace:\($0)" } + Corpus.councilsForScopes.map { "council:\($0)" }
            + ["workplace:*", "council:*", "*"]
        table = [:]
        for origin in Corpus.originsForScopes where Int.random(in: 0..<3, using: &rng) > 0 {
            table[origin] = (0..<Int.random(in: 1...3, using: &rng)).map { _ in
                // Wildcards rarer than single bodies, so both outcomes are common.
                Int.random(in: 0..<6, using: &rng) == 0 ? ["workplace:*", "council:*", "*"].randomElement(using: &rng)!
                    : words.randomElement(using: &rng)!
            }
        }
        unlistedEverything = Bool.random(using: &rng)
    }

    var speakers: Speakers {
        var scopes: [Slug: Scopes] = [:]
        for (origin, words) in table { scopes[Slug(origin)!] = Scopes(words.map { Scope($0)! }) }
        return Speakers(table: scopes, unlisted: unlistedEverything ? .everything : .own)
    }

    static func body(_ message: Message) -> (kind: String, id: String)? {
        switch message.type {
        case .delegateStatus, .delegateSafety: return nil
        default: break
        }
        guard case .object(let object)? = try? JSONReader.read(message.content), case .object(let data)? = object["data"] else {
            return nil
        }
        func text(_ key: String) -> String? { if case .string(let s)? = data[key] { s } else { nil } }
        switch message.type.rawValue {
        case "delegate.elected", "delegate.recalled":
            return text("workplace").map { ("workplace", $0) } ?? ("council", text("from_council")!)
        case "council.formed": return ("council", text("council")!)
        case "demand.proposed", "action.called": return ("council", text("by") ?? message.origin.rawValue)
        default: return ("workplace", text("workplace")!)
        }
    }

    func admits(_ message: Message) -> Bool {
        guard let (kind, id) = Self.body(message) else { return true }
        let origin = message.origin.rawValue
        guard let words = table[origin] else { return unlistedEverything || id == origin }
        return words.contains { $0 == "*" || $0 == "\(kind):*" || $0 == "\(kind):\(id)" }
    }
}

extension Corpus {
    static var originsForScopes: [String] { ["mtz", "bmz", "grodno-azot", "belaz"] }
    static var workplacesForScopes: [String] { ["mtz", "bmz", "azot", "belaz", "naftan"] }
    static var councilsForScopes: [String] { ["district-5", "city", "region", "nation", "mtz"] }
}

@Suite struct ScopeContractTests {
    /// The store's reports: `origin#seq body` lines.
    static func reports(_ store: Store) throws -> [String] {
        try store.read { db in
            try Row.fetchAll(db, sql: "SELECT origin, seq, body FROM report ORDER BY origin, seq").map {
                "\($0[0] as String)#\($0[1] as Int64) \($0[2] as String)"
            }
        }
    }

    static func naiveReports(_ copies: [[UInt8]], _ scopes: NaiveScopes) -> [String] {
        oracleApplied(copies).applied.filter { !scopes.admits($0) }
            .map { message -> (String, Int64, String) in
                let (kind, id) = NaiveScopes.body(message)!
                return (message.origin.rawValue, message.seq, "\(kind):\(id)")
            }
            .sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            .map { "\($0.0)#\($0.1) \($0.2)" }
    }

    /// Checks everything the contract says of one store against the naive
    /// replay under `scopes`.
    static func expectOracle(_ store: Store, _ copies: [[UInt8]], _ scopes: NaiveScopes, _ label: String) {
        #expect(try! store.summary() == oracleSummary(copies, admits: scopes.admits), "\(label)")
        let tableDifferences = differences(try! storeTables(store), oracleTables(copies, admits: scopes.admits))
        #expect(tableDifferences == [], "\(label): \(tableDifferences)")
        #expect(try! store.recomputedSummary() == store.summary(), "\(label)")
        #expect(try! store.entityCounts(recomputed: false) == store.entityCounts(recomputed: true), "\(label)")
        #expect(try! Self.reports(store) == naiveReports(copies, scopes), "\(label)")
        let delegation = NaiveDelegation(oracleApplied(copies).applied.filter(scopes.admits))
        #expect(try! DelegationContractTests.storeState(store) == DelegationContractTests.naiveState(delegation), "\(label)")
    }

    /// Any order and split of a random corpus, under random scopes (listed,
    /// wildcards, unlisted origins speaking for everything or for their
    /// own), gives the same full state, equal to the naive replay of the
    /// messages in scope; the others are listed as reports and move nothing.
    @Test func anyOrderAndSplitGiveTheNaiveReplayInScope() async throws {
        await propertyCheck(count: 25, input: Gen.int(in: 0...Int.max), Gen.int(in: 10...200)) { seed, size in
            let corpus = Corpus(seed: UInt64(seed), messages: size)
            var rng = SplitMix(seed: UInt64(seed) ^ 0x5C0_FE5)
            let scopes = NaiveScopes(rng: &rng)
            let speakers = scopes.speakers
            let directory = TemporaryDirectory()
            let first = try! Store(path: directory.path + "/a.sqlite")
            try! ingest(corpus.copies.shuffled(using: &rng), into: first, rng: &rng, speakers: speakers)
            let secondPath = directory.path + "/b.sqlite"
            let shuffled = corpus.copies.shuffled(using: &rng)
            let cut = Int.random(in: 0...shuffled.count, using: &rng)
            try! ingest(Array(shuffled[..<cut]), into: Store(path: secondPath), rng: &rng, speakers: speakers)
            let second = try! Store(path: secondPath)
            try! ingest(Array(shuffled[cut...]), into: second, rng: &rng, speakers: speakers)
            let label = "seed \(seed) size \(size)"
            #expect(try! first.dump() == second.dump(), "\(label)")
            Self.expectOracle(first, corpus.copies, scopes, label)
        }
    }

    /// A keyring change and reload equals a fresh ingest under the new
    /// keyring: part of a corpus under some scopes, the rest under others
    /// (the reload in between), any order and split, gives what all of it
    /// under the second scopes gives, and the naive replay of it.
    @Test func aChangeOfScopesEqualsAFreshIngest() async throws {
        await propertyCheck(count: 25, input: Gen.int(in: 0...Int.max), Gen.int(in: 10...200)) { seed, size in
            let corpus = Corpus(seed: UInt64(seed), messages: size)
            var rng = SplitMix(seed: UInt64(seed) ^ 0x4E10AD)
            let before = NaiveScopes(rng: &rng)
            let after = NaiveScopes(rng: &rng)
            let directory = TemporaryDirectory()
            let reloaded = try! Store(path: directory.path + "/reloaded.sqlite")
            let shuffled = corpus.copies.shuffled(using: &rng)
            let cut = Int.random(in: 0...shuffled.count, using: &rng)
            try! ingest(Array(shuffled[..<cut]), into: reloaded, rng: &rng, speakers: before.speakers)
            // The reload: the daemon adopts the new scopes at once; without
            // it, the next transaction would.
            if Bool.random(using: &rng) { _ = try! reloaded.adoptScopes(after.speakers, now: 1_700_000_000) }
            try! ingest(Array(shuffled[cut...]), into: reloaded, rng: &rng, speakers: after.speakers)
            _ = try! reloaded.adoptScopes(after.speakers, now: 1_700_000_000)

            let fresh = try! Store(path: directory.path + "/fresh.sqlite")
            try! ingest(corpus.copies.shuffled(using: &rng), into: fresh, rng: &rng, speakers: after.speakers)
            let label = "seed \(seed) size \(size)"
            #expect(try! reloaded.dump() == fresh.dump(), "\(label)")
            Self.expectOracle(reloaded, corpus.copies, after, label)
        }
    }

    /// The issue's forgery: another committee's key reports "tractor-works:
    /// working, 0 participants" a minute later, and moves the general
    /// strike's start. Both are applied as reports, move nothing, and are
    /// listed; a copy of one again is a duplicate; adding the scope and
    /// reloading makes them move the state, and taking it away undoes that.
    @Test func aForgedReportMovesNothing() async throws {
        let directory = TemporaryDirectory()
        let store = try Store(path: directory.path + "/s.sqlite")
        let minskCity = Slug("minsk-city")!
        let scoped = Speakers(table: [
            Slug("tractor-works")!: .own(Slug("tractor-works")!),
            minskCity: Scopes([.council(minskCity)])!,
            Slug("belarus-national")!: .own(Slug("belarus-national")!),
            Slug("kozlov-committee")!: .own(Slug("kozlov-committee")!),
        ], unlisted: .own)
        let genuine = [
            message("tractor-works", 1, "strike.reported", ["workplace": "tractor-works", "status": "strike", "participants": 3000],
                    sentAt: "2020-08-24T09:00:00+03:00"),
            message("belarus-national", 1, "action.called", ["action": "general-strike", "kind": "general-strike",
                                                             "starts_at": "2020-10-26T00:00:00+03:00"], sentAt: "2020-10-13T12:00:00+03:00"),
        ]
        // A safety report may come from any origin, and is shown with it.
        let safety = message("kozlov-committee", 3, "delegate.safety", ["delegate": "rook", "status": "detained"],
                             sentAt: "2020-08-24T10:00:00+03:00")
        let forged = [
            message("kozlov-committee", 1, "strike.reported", ["workplace": "tractor-works", "status": "working", "participants": 0],
                    sentAt: "2020-08-24T09:01:00+03:00"),
            message("kozlov-committee", 2, "action.called", ["action": "general-strike", "kind": "general-strike",
                                                             "starts_at": "2020-12-31T00:00:00+03:00", "by": "belarus-national"],
                    sentAt: "2020-10-13T12:01:00+03:00"),
        ]
        let copies = (genuine + forged + [safety]).map { CopyInput(reading: reading($0), source: "t") }
        let (outcomes, events) = try store.ingest(copies, now: queryNow, speakers: scoped)
        #expect(outcomes == [.applied, .applied, .applied, .applied, .applied])
        let rook = try #require(try await store.read(Store.getDelegate("rook")))
        #expect(rook.safety?.status == .detained && rook.safety?.reported.origin == "kozlov-committee")
        #expect(events.contains(.report(Envelope(origin: Slug("kozlov-committee")!, seq: 1), type: .strikeReported, body: .workplace(Slug("tractor-works")!))))
        var summary = try store.summary()
        #expect(summary.striking == 1 && summary.participants == 3000 && summary.messages.applied == 5)
        let workplace = try #require(try await store.getWorkplace("tractor-works"))
        #expect(workplace.workplace.status == .strike && workplace.workplace.participants == 3000)
        #expect(workplace.reports == [ReportRecord(message: MessageRef(at: "2020-08-24T06:01:00Z", origin: "kozlov-committee", seq: 1),
                                                   type: "strike.reported", subject: "workplace/tractor-works", body: "workplace:tractor-works")])
        let actions = try await store.listActions(workplace: nil, page: PageRequest())
        #expect(actions.items.first?.startsAt == "2020-10-26T00:00:00+03:00")
        let national = try #require(try await store.read(Store.getCouncil("belarus-national")))
        #expect(national.reports.map(\.subject) == ["action/general-strike"])
        // Seen again: a duplicate, not news and not a problem.
        let again = try store.ingest([CopyInput(reading: reading(forged[0]), source: "again")], now: queryNow, speakers: scoped)
        #expect(again.outcomes == [.duplicate])
        #expect(try store.entityCounts(recomputed: false) == store.entityCounts(recomputed: true))

        // The operator gives kozlov-committee the tractor works: it moves the state.
        var table = scoped.table
        table[Slug("kozlov-committee")!] = Scopes([.workplace(Slug("tractor-works")!)])
        let trusted = Speakers(table: table, unlisted: .own)
        let scopedSummary = try store.summary()
        #expect(try store.adoptScopes(trusted, now: queryNow) == (messages: 1, subjects: 1))
        summary = try store.summary()
        #expect(summary.striking == 0 && summary.participants == 0)
        #expect(try await store.getWorkplace("tractor-works")?.reports == [])
        #expect(try store.adoptScopes(trusted, now: queryNow) == (messages: 0, subjects: 0))
        // And takes it back.
        #expect(try store.adoptScopes(scoped, now: queryNow) == (messages: 1, subjects: 1))
        #expect(try store.summary() == scopedSummary)
        #expect(try await store.getWorkplace("tractor-works")?.reports.count == 1)
        #expect(try store.recomputedSummary() == store.summary())
    }

    /// A store from before scopes (schema v4-mandates, every message folded
    /// in) migrates, and adopting the keyring's scopes gives exactly what a
    /// fresh ingest under them gives.
    @Test func aStoreFromBeforeScopesMigratesToTheNewRules() throws {
        let corpus = Corpus(seed: 1717, messages: 300)
        var rng = SplitMix(seed: 1717)
        let scopes = NaiveScopes(rng: &rng)
        let directory = TemporaryDirectory()
        let path = directory.path + "/old.sqlite"
        do {
            // Made today under `everyone` (what older code folded), then
            // stripped of what v5-scopes adds: the tables as v4-mandates left them.
            let store = try Store(path: path)
            try ingest(corpus.copies, into: store, rng: &rng)
            try store.close()
            let queue = try DatabaseQueue(path: path)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: """
                    DROP TABLE report; DROP TABLE scope; DROP TABLE scope_rules;
                    ALTER TABLE message DROP COLUMN report;
                    DELETE FROM grdb_migrations WHERE identifier = 'v5-scopes';
                    """)
            }
        }
        let migrated = try Store(path: path)
        _ = try migrated.adoptScopes(scopes.speakers, now: 1_700_000_000)
        let fresh = try Store(path: directory.path + "/fresh.sqlite")
        try ingest(corpus.copies, into: fresh, rng: &rng, speakers: scopes.speakers)
        #expect(try migrated.dump() == fresh.dump())
        Self.expectOracle(migrated, corpus.copies, scopes, "migrated")
    }
}

extension ScopeContractTests {
    /// The random scopes put messages on both sides, and a change of scopes
    /// moves messages both ways: the properties above test something.
    @Test func theScopesExerciseBothSides() throws {
        let applied = oracleApplied(Corpus(seed: 17, messages: 2000).copies).applied
        var rng = SplitMix(seed: 17)
        var inScope = 0, reports = 0, moved = 0
        for _ in 0..<8 {
            let (before, after) = (NaiveScopes(rng: &rng), NaiveScopes(rng: &rng))
            inScope += applied.filter(before.admits).count
            reports += applied.filter { !before.admits($0) }.count
            moved += applied.filter { before.admits($0) != after.admits($0) }.count
            // The store's rules and the words agree on every message.
            #expect(applied.allSatisfy { before.speakers.admits($0) == before.admits($0) })
        }
        #expect(inScope > 1000 && reports > 1000 && moved > 1000, "\(inScope) in scope, \(reports) reports, \(moved) moved")
    }
}
