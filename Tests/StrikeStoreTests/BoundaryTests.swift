import GRDB
import StrikeCore
@testable import StrikeStore
import TestSupport
import Testing

// Integers from input at their edges: seq at 2^63 - 1, counts at their limit
// and beyond, totals that must stay exact whatever the order and batches.

@Suite struct BoundaryTests {
    /// A rejected copy numbered 2^63 - 1 counts as arrived (signatures off:
    /// anybody speaks for every origin); the next copies of its origin, in
    /// the same transaction or a later one, must not compute `highest + 1`
    /// (before: "arithmetic overflow", signal 4, at every restart).
    @Test(arguments: [false, true]) func arrivalsAtTheTopOfSeqNeverTrap(oneTransaction: Bool) async throws {
        let directory = TemporaryDirectory()
        let store = try Store(path: directory.path + "/state.db")
        let invalidAtTheTop = message("o", .max, "strike.reported", ["workplace": "w", "status": "bogus"])
        let rest = [
            message("o", 1, "strike.reported", ["workplace": "w", "status": "strike", "participants": 5]),
            message("o", .max - 1, "strike.reported", ["workplace": "w", "status": "strike", "participants": 6]),
            // Valid, under the same (origin, seq) as the invalid one: no conflict.
            message("o", .max, "council.formed", ["council": "c", "level": "local"]),
        ]
        func run(_ copies: [[UInt8]]) throws -> (outcomes: [CopyOutcome], events: [ReconcileEvent]) {
            try store.ingest(copies.map { CopyInput(reading: reading($0, now: queryNow), source: "t") }, now: queryNow)
        }
        var events: [ReconcileEvent] = []
        if oneTransaction {
            let result = try run([invalidAtTheTop] + rest)
            #expect(result.outcomes.map(\.rejection?.code) == [.badValue, nil, nil, nil])
            events = result.events
        } else {
            events += try run([invalidAtTheTop]).events
            for copy in rest { events += try run([copy]).events }
        }
        // Reconciled in (origin, seq) order within a batch: 1 first there.
        let origin = try #require(Slug("o"))
        let top = Int64.max
        let expected: [ReconcileEvent] = oneTransaction
            ? [.gap(origin: origin, from: 2, to: top - 2)]
            : [.gap(origin: origin, from: 1, to: top - 1)]
        #expect(events == expected)
        let gaps = try await store.gaps(origin: "o", page: PageRequest())
        let gap = GapRecord(origin: "o", first: 2, last: top - 2)
        #expect(gaps.items == [gap])
        #expect(gaps.items.first?.missing == top - 3)
        let summary = try store.summary()
        #expect(summary.messages.applied == 3 && summary.messages.rejected == 1)
        #expect(summary.participants == 6)
    }

    /// Every count field takes 0 and the limit; one more is `out-of-range`,
    /// as is 2^63 - 1; below 0 stays `bad-value`.
    @Test(arguments: [
        ("strike.reported", ["workplace": "w", "status": "strike"], "participants"),
        ("action.joined", ["action": "a", "workplace": "w"], "participants"),
        ("workplace.reported", ["workplace": "w"], "headcount"),
        ("action.called", ["action": "a", "kind": "rally", "starts_at": "2020-08-30T14:00:00+03:00"], "hours"),
    ] as [(String, [String: String], String)])
    func countsStopAtTheirLimit(type: String, data: [String: String], field: String) throws {
        func copy(_ value: Int64) -> CopyReading {
            let members = data.sorted { $0.key < $1.key }.map { (key: $0.key, value: JSONValue.string($0.value)) }
                + [(key: field, value: .number(JSONNumber(value)))]
            let envelope: JSONValue = .record([
                "v": 1, "origin": "o", "seq": 1, "sent_at": "2020-08-24T09:00:00+03:00", "type": .string(type),
                "data": .object(JSONObject(members)),
            ])
            return reading(JSONWriter.bytes(envelope, style: .compact), now: queryNow)
        }
        #expect(copy(0).message != nil)
        #expect(copy(ValidationPolicy.maximumCount).message != nil)
        #expect(copy(ValidationPolicy.maximumCount + 1).rejection?.code == .outOfRange)
        #expect(copy(.max).rejection?.code == .outOfRange)
        #expect(copy(-1).rejection?.code == .badValue)
        #expect(copy(.min).rejection?.code == .badValue)
        #expect(copy(.max).rejection?.detail.contains("data.\(field)") == true)
    }

    /// A workplace reports 2^63 - 1 participants (refused), then the most a
    /// count may be, on many workplaces, then is corrected: the Summary and
    /// an action's total stay exact, in any order and any batches.
    @Test func totalsStayExact() async throws {
        let limit = ValidationPolicy.maximumCount
        var copies: [[UInt8]] = [
            message("o", 1, "strike.reported", ["workplace": "w0", "status": "strike", "participants": .number(JSONNumber(Int64.max))]),
            message("p", 1, "action.called", ["action": "a", "kind": "general-strike", "starts_at": "2020-10-26T00:00:00+03:00"]),
        ]
        for index in 0..<50 {
            let seq = Int64(index) + 2
            copies.append(message("o", seq, "strike.reported", ["workplace": .string("w\(index)"), "status": "strike",
                                                                "participants": .number(JSONNumber(limit))]))
            copies.append(message("p", seq, "action.joined", ["action": "a", "workplace": .string("w\(index)"),
                                                              "participants": .number(JSONNumber(limit))]))
        }
        // The correction of w0, later in time.
        copies.append(message("o", 100, "strike.reported", ["workplace": "w0", "status": "strike", "participants": 7],
                              sentAt: "2020-08-25T09:00:00+03:00"))
        let directory = TemporaryDirectory()
        var rng = SplitMix(seed: 63)
        var summaries: [Summary] = []
        for (index, order) in [copies, copies.reversed(), copies.shuffled(using: &rng)].enumerated() {
            let store = try Store(path: directory.path + "/\(index).db")
            try ingest(order, into: store, rng: &rng)
            let summary = try store.summary()
            #expect(summary == (try store.recomputedSummary()))
            summaries.append(summary)
            let actions = try await store.listActions(workplace: nil, page: PageRequest())
            #expect(actions.items.first?.participants == 50 * limit)
            #expect(actions.items.first?.joined == 50)
            let rejected = try await store.listRejected(page: PageRequest())
            #expect(rejected.items.map(\.code) == ["out-of-range"])
        }
        #expect(summaries[0].participants == 49 * Int(limit) + 7)
        #expect(summaries[0].striking == 50)
        #expect(summaries.allSatisfy { $0 == summaries[0] })
    }

    /// The guard behind the limit: a total that would leave 64 bits fails
    /// the batch with an error (nothing recorded), never wraps, never traps,
    /// never turns into a REAL in SQLite.
    @Test func aTotalThatWouldOverflowFailsTheBatch() throws {
        let directory = TemporaryDirectory()
        let store = try Store(path: directory.path + "/state.db")
        try store.pool.write { db in
            try db.execute(sql: "INSERT INTO tally (name, value) VALUES ('participants', ?)", arguments: [Int64.max - 1])
        }
        let copy = message("o", 1, "strike.reported", ["workplace": "w", "status": "strike", "participants": 2])
        do {
            _ = try store.ingest([CopyInput(reading: reading(copy, now: queryNow), source: "t")], now: queryNow)
            Issue.record("an overflowing total was recorded")
        } catch {
            #expect(error.description.contains("64 bits"), "\(error)")
        }
        let (value, type) = try store.pool.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT value, typeof(value) FROM tally WHERE name = 'participants'")!
            return (row[0] as Int64, row[1] as String)
        }
        #expect(value == .max - 1 && type == "integer")
        #expect(try store.summary().messages.applied == 0)
    }

    /// Page limits and cursors at the ends of 64 bits: limits clamp, cursors
    /// that name a seq or a time within 64 bits page on, others are refused.
    @Test func pageLimitsAndCursorsAtTheirEdges() async throws {
        let directory = TemporaryDirectory()
        let store = try fixtureStore(directory)
        for limit in [Int.min, -1, 0, 1, Int.max] {
            let page = try await store.gaps(origin: nil, page: PageRequest(limit: limit))
            #expect(page.items.count == (limit == Int.max ? 4 : 1), "limit \(limit)")
        }
        let last = try await store.gaps(origin: nil, page: PageRequest(cursor: "big.9223372036854775807"))
        #expect(last.items.map(\.origin) == ["city", "mtz"])
        for bad in ["big.9223372036854775808", "big.1", "big.-9223372036854775808", "big.", ".5"] {
            await #expect(throws: QueryError.self, "cursor \(bad)") {
                try await store.gaps(origin: nil, page: PageRequest(cursor: bad))
            }
        }
        let hash = String(repeating: "0", count: 64)
        let all = try await store.listRejected(page: PageRequest(limit: .max, cursor: "-9223372036854775808.\(hash)"))
        #expect(all.items.count == 4)
        let none = try await store.listRejected(page: PageRequest(cursor: "9223372036854775807.\(hash)"))
        #expect(none.items.isEmpty)
        await #expect(throws: QueryError.self) {
            try await store.listRejected(page: PageRequest(cursor: "9223372036854775808.\(hash)"))
        }
    }

    /// Tally arithmetic reports an overflow instead of wrapping or trapping.
    @Test func tallyArithmeticIsChecked() {
        var big = Tally()
        big.participants = .max
        var one = Tally()
        one.participants = 1
        #expect(big.adding(one, minus: Tally()) == nil)
        #expect(Tally().adding(Tally(), minus: big)?.participants == -.max)
        var low = Tally()
        low.participants = .min
        #expect(low.adding(Tally(), minus: one) == nil)
        #expect(Tally().adding(one, minus: low) == nil)
        #expect(big.adding(big, minus: big) == big)
    }
}
