import Foundation
import GRDB
import StrikeCore
@testable import StrikeStore
import TestSupport
import Testing

/// The story of August 2020, told through the store.
@Suite struct ScenarioTests {
    static let now: Int64 = 1_598_918_400  // 2020-09-01T00:00:00Z

    final class Story {
        let directory = TemporaryDirectory()
        let store: Store
        var next: [String: Int64] = [:]
        var sources = 0

        init() throws { store = try Store(path: directory.path + "/state.sqlite") }

        /// A message from `origin` with its next seq, at `time` (Minsk, +03:00).
        func message(_ origin: String, _ type: String, _ time: String, _ data: String, seq: Int64? = nil) -> [UInt8] {
            let number = seq ?? { next[origin, default: 0] += 1; return next[origin]! }()
            return Array("{\"v\":1,\"origin\":\"\(origin)\",\"seq\":\(number),\"sent_at\":\"2020-08-\(time):00+03:00\",\"type\":\"\(type)\",\"data\":{\(data)}}".utf8)
        }

        @discardableResult
        func send(_ copies: [UInt8]...) throws -> [CopyOutcome] {
            let inputs = copies.map { bytes in
                sources += 1
                return CopyInput(reading: MessageReader.read(bytes, policy: ValidationPolicy(now: ScenarioTests.now)), source: "story-\(sources)")
            }
            return try store.ingest(inputs, now: ScenarioTests.now).outcomes
        }

        func delegate(_ id: String) throws -> (status: String, workplace: String?, council: String?)? {
            try store.read { db in
                // With its latest-elected mandate's body and council.
                try Row.fetchOne(db, sql: """
                    SELECT d.status, m.body AS workplace, m.council FROM delegate d LEFT JOIN mandate m ON m.delegate = d.id
                    WHERE d.id = ? ORDER BY m.election_k DESC LIMIT 1
                    """, arguments: [id])
                    .map { ($0["status"], $0["workplace"], $0["council"]) }
            }
        }
    }

    @Test func augustTwentyTwenty() async throws {
        let story = try Story()
        // 17 August: the tractor works walks out; its assembly elects a delegate.
        try story.send(
            story.message("tractor-works", "workplace.reported", "17T08:00", #""workplace":"tractor-works","name":"Tractor Works","kind":"factory","town":"Minsk","ownership":"state","headcount":17000"#),
            story.message("tractor-works", "strike.reported", "17T09:00", #""workplace":"tractor-works","status":"strike","participants":1500"#),
            story.message("tractor-works", "delegate.elected", "17T12:00", #""delegate":"rook","workplace":"tractor-works","council":"city-strike-council","votes":{"for":900,"against":40,"abstain":60},"quorum":500"#)
        )
        // The council is described later than the election that names it: kept and applied.
        let unresolved = try await story.store.unresolved(kind: nil, page: PageRequest())
        #expect(unresolved.items.contains { $0.kind == .council && $0.id == "city-strike-council" })
        try story.send(story.message("city-strike-council", "council.formed", "17T18:00", #""council":"city-strike-council","name":"City strike council","level":"local","area":"Minsk""#))
        let resolved = try await story.store.unresolved(kind: nil, page: PageRequest())
        #expect(!resolved.items.contains { $0.kind == .council })
        #expect(try story.delegate("rook")?.status == "active")

        // 19 August: rook is detained; the report of the release arrives before
        // the report of the detention (couriers are not in order).
        let detained = story.message("city-strike-council", "delegate.status", "19T07:00", #""delegate":"rook","status":"detained","note":"taken at the gate""#)
        let released = story.message("city-strike-council", "delegate.status", "21T20:00", #""delegate":"rook","status":"released""#)
        try story.send(released)
        try story.send(detained)
        #expect(try story.delegate("rook")?.status == "active", "released is the later event, whatever the arrival order")

        // Demands, economic and democratic, adopted by the assembly.
        try story.send(
            story.message("city-strike-council", "demand.proposed", "18T10:00", #""demand":"abolish-contract-system","text":"Abolish the contract system","category":"economic""#),
            story.message("city-strike-council", "demand.proposed", "18T10:05", #""demand":"new-elections","text":"New, free elections","category":"democratic""#),
            story.message("city-strike-council", "demand.proposed", "18T10:10", #""demand":"free-political-prisoners","text":"Freedom for political prisoners","category":"democratic""#),
            story.message("tractor-works", "demand.adopted", "18T14:00", #""demand":"abolish-contract-system","workplace":"tractor-works""#),
            story.message("tractor-works", "demand.adopted", "18T14:01", #""demand":"new-elections","workplace":"tractor-works""#),
            story.message("tractor-works", "demand.outcome", "20T09:00", #""demand":"abolish-contract-system","workplace":"tractor-works","outcome":"rejected""#)
        )
        // A 48-hour general strike is called and joined.
        try story.send(
            story.message("city-strike-council", "action.called", "24T12:00", #""action":"general-strike-48h","kind":"general-strike","starts_at":"2020-08-26T08:00:00+03:00","hours":48,"demands":["new-elections","free-political-prisoners"]"#),
            story.message("tractor-works", "action.joined", "25T18:00", #""action":"general-strike-48h","workplace":"tractor-works","participants":2500"#),
            story.message("tractor-works", "strike.reported", "26T08:00", #""workplace":"tractor-works","status":"strike","participants":2500"#)
        )
        var summary = try story.store.summary()
        #expect(summary.workplaces == 1)
        #expect(summary.striking == 1)
        #expect(summary.participants == 2500)
        #expect(summary.delegates.active == 1)
        #expect(summary.demands.economic == 1 && summary.demands.democratic == 2)
        #expect(summary.messages.applied == 15)
        #expect(try story.store.recomputedSummary() == summary)

        // A forged copy of tractor-works #2 (the first strike report) claims
        // the plant is working again. It conflicts with the applied version:
        // both are rejected, and the strike status is re-folded without #2.
        let forged = story.message("tractor-works", "strike.reported", "17T09:00", #""workplace":"tractor-works","status":"working","participants":0"#, seq: 2)
        let outcome = try story.send(forged)
        #expect(outcome == [.rejected(Rejection(.conflict, outcome.first!.rejection!.detail))])
        summary = try story.store.summary()
        #expect(summary.messages.applied == 14)
        #expect(summary.messages.rejected == 2, "both versions of tractor-works #2")
        #expect(summary.striking == 1, "the 26 August report still says strike")
        #expect(try story.store.recomputedSummary() == summary)
        #expect(try story.store.entityCounts(recomputed: false) == story.store.entityCounts(recomputed: true), "the conflict took its message's names back")

        // The operator finds the forgery and forgets it: the genuine #2 is applied again.
        let forgedReading = MessageReader.read(forged, policy: ValidationPolicy(now: ScenarioTests.now))
        let forgotten = try story.store.write { db in
            var reconciler = Reconciler(db, now: ScenarioTests.now)
            defer { try? reconciler.finish() }
            return try reconciler.forget(forgedReading.identity)
        }
        #expect(forgotten)
        summary = try story.store.summary()
        #expect(summary.messages.applied == 15)
        #expect(summary.messages.rejected == 0)
        #expect(try story.store.recomputedSummary() == summary)
        #expect(try story.store.entityCounts(recomputed: false) == story.store.entityCounts(recomputed: true), "forgetting restored them")

        // Duplicates, reformatted or not, change nothing but the counter.
        let dump = try story.store.dump().split(separator: "\n").filter { !$0.hasPrefix("\"duplicates\"") }
        try story.send(detained, Array(String(decoding: released, as: UTF8.self).replacingOccurrences(of: ",", with: " , ").utf8))
        #expect(try story.store.summary().messages.duplicates == 2)
        #expect(try story.store.dump().split(separator: "\n").filter { !$0.hasPrefix("\"duplicates\"") } == dump)

        // A recall that carries takes rook out; a later re-election brings rook back.
        try story.send(story.message("tractor-works", "delegate.recalled", "27T10:00", #""delegate":"rook","workplace":"tractor-works","votes":{"for":700,"against":100}"#))
        #expect(try story.delegate("rook")?.status == "recalled")
        try story.send(story.message("tractor-works", "delegate.elected", "28T10:00", #""delegate":"rook","workplace":"tractor-works","council":"city-strike-council","votes":{"for":800,"against":50}"#))
        #expect(try story.delegate("rook")?.status == "active")
    }

    /// Forgetting the forged side of a conflict by its hash (Admin.Forget)
    /// leaves exactly the state of never having received it, counters
    /// included; an applied version or an unknown hash is not forgotten.
    @Test func forgettingTheForgedVersionByHashUndoesIt() async throws {
        let genuine = Array(#"{"v":1,"origin":"mtz","seq":1,"sent_at":"2020-08-24T09:00:00Z","type":"strike.reported","data":{"workplace":"mtz","status":"strike","participants":3000}}"#.utf8)
        let forged = Array(#"{"v":1,"origin":"mtz","seq":1,"sent_at":"2020-08-24T09:00:00Z","type":"strike.reported","data":{"workplace":"mtz","status":"working"}}"#.utf8)
        let reference = try Story()
        try reference.send(genuine)
        let story = try Story()
        try story.send(genuine)
        try story.send(forged)
        #expect(try story.store.summary().messages.rejected == 2)

        let policy = ValidationPolicy(now: ScenarioTests.now)
        let genuineHash = Reconciler.hash(MessageReader.read(genuine, policy: policy).identity)
        let forgedHash = Reconciler.hash(MessageReader.read(forged, policy: policy).identity)
        let restored = try await story.store.forgetRejected(hash: forgedHash, now: ScenarioTests.now)
        #expect(restored == [.restored(Envelope(origin: Slug("mtz")!, seq: 1), type: .strikeReported, subject: "workplace/mtz")])
        #expect(try story.store.dump() == reference.store.dump())
        #expect(try story.store.recomputedSummary() == story.store.summary())

        #expect(try await story.store.forgetRejected(hash: forgedHash, now: ScenarioTests.now) == nil, "forgotten twice")
        #expect(try await story.store.forgetRejected(hash: genuineHash, now: ScenarioTests.now) == nil, "an applied version")
        #expect(try story.store.dump() == reference.store.dump())
    }

    /// Gaps list the seqs of which no copy arrived; a rejected copy with a
    /// readable envelope counts as arrived.
    @Test func gapsCountRejectedCopiesAsArrived() async throws {
        let story = try Story()
        try story.send(
            story.message("mtz", "strike.reported", "17T09:00", #""workplace":"mtz","status":"strike""#, seq: 1),
            story.message("mtz", "strike.reported", "17T10:00", #""workplace":"mtz","status":"strike""#, seq: 5),
            // #3 is invalid (an unknown status) but its envelope reads: it arrived.
            story.message("mtz", "strike.reported", "17T11:00", #""workplace":"mtz","status":"on-holiday""#, seq: 3)
        )
        let gaps = try await story.store.gaps(origin: nil, page: PageRequest()).items
        #expect(gaps.map { "\($0.origin) \($0.first)-\($0.last)" } == ["mtz 2-2", "mtz 4-4"])
    }
}
