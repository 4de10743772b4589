import PropertyBased
import StrikeCore
import Testing

// Times compare as instants, whatever the offset and however many fraction
// digits; the sortable UTC text and the order key sort bytewise like them.

func stamp(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Timestamp {
    try #require(Timestamp(text), sourceLocation: sourceLocation)
}

@Suite struct TimestampOrder {
    @Test(arguments: [
        // (earlier, later)
        ("2020-08-24T09:30:00+03:00", "2020-08-24T06:30:01Z"),
        ("2020-08-24T12:00:00+03:00", "2020-08-24T10:00:00Z"),         // text sorts the other way
        ("2020-08-24T23:00:00-05:00", "2020-08-25T04:00:01Z"),         // other day in the text
        ("2020-08-24T09:30:00+03:00", "2020-08-24T09:30:00+02:00"),
        ("2020-08-24T06:30:00Z", "2020-08-24T06:30:00.000001Z"),
        ("2020-08-24T06:30:00.09Z", "2020-08-24T06:30:00.1Z"),
        ("2020-08-24T06:30:00.5Z", "2020-08-24T06:30:00.500000001Z"),
        ("2020-08-24T06:30:00.999999999Z", "2020-08-24T06:30:01Z"),
        ("2020-12-31T23:59:59Z", "2021-01-01T03:00:00+03:00"),
        ("1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z"),
        ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"),
    ])
    func earlier(_ a: String, _ b: String) throws {
        let x = try stamp(a), y = try stamp(b)
        #expect(x < y)
        #expect(!(y < x))
        #expect(x != y)
        #expect(x.utcSortable.utf8.lexicographicallyPrecedes(y.utcSortable.utf8))
    }

    @Test(arguments: [
        ("2020-08-24T09:30:00+03:00", "2020-08-24T06:30:00Z"),
        ("2020-08-24T09:30:00+03:00", "2020-08-24t06:30:00z"),
        ("2020-08-24T06:30:00Z", "2020-08-24T06:30:00+00:00"),
        ("2020-08-24T06:30:00Z", "2020-08-24T06:30:00-00:00"),
        ("2020-08-24T06:30:00.5Z", "2020-08-24T06:30:00.50Z"),
        ("2020-08-24T06:30:00.5Z", "2020-08-24T09:30:00.500000+03:00"),
        ("2020-08-24T06:30:00Z", "2020-08-24T06:30:00.000Z"),
        ("2021-01-01T01:30:00+03:00", "2020-12-31T22:30:00Z"),
        ("2020-12-31T14:30:00-10:00", "2021-01-01T00:30:00Z"),
    ])
    func sameInstant(_ a: String, _ b: String) throws {
        let x = try stamp(a), y = try stamp(b)
        #expect(x == y)
        #expect(!(x < y) && !(y < x))
        #expect(x.utcSortable == y.utcSortable)
        #expect(x.hashValue == y.hashValue)
        // The author's text is kept as written.
        #expect(x.text == a && y.text == b)
    }

    @Test(arguments: [
        ("2020-08-24T09:30:00+03:00", "2020-08-24T06:30:00"),
        ("2020-08-24T09:30:00.250+03:00", "2020-08-24T06:30:00.25"),
        ("2020-08-24T09:30:00.000+03:00", "2020-08-24T06:30:00"),
        ("2021-01-01T01:30:00+03:00", "2020-12-31T22:30:00"),
        ("2020-12-31T14:30:00-10:00", "2021-01-01T00:30:00"),
        ("2020-02-29T23:00:00-02:00", "2020-03-01T01:00:00"),
        ("2019-03-01T01:00:00+02:00", "2019-02-28T23:00:00"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00"),
        ("9999-12-31T23:59:59.9Z", "9999-12-31T23:59:59.9"),
    ])
    func utcSortableText(_ text: String, _ expected: String) throws {
        #expect(try stamp(text).utcSortable == expected)
    }

    @Test func utcText() {
        #expect(Timestamp.utcText(epochSeconds: 1_598_250_600) == "2020-08-24T06:30:00Z")
        #expect(Timestamp.utcText(epochSeconds: 0) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.utcText(epochSeconds: -1) == "1969-12-31T23:59:59Z")
        #expect(Timestamp(Timestamp.utcText(epochSeconds: septemberFirst))?.epochSeconds == septemberFirst)
    }
}

// MARK: - Property: the sortable text sorts like the instant

/// A random instant (whole seconds in years 1000–9000, or within a few seconds
/// of one moment so that ties and near-ties are common), a fraction of 0–9
/// digits, and an offset, written as RFC 3339 text.
struct RandomTime: Sendable, CustomStringConvertible {
    let epochSeconds: Int64
    let fraction: String
    let offsetMinutes: Int64

    var text: String {
        let local = String(Timestamp.utcText(epochSeconds: epochSeconds + offsetMinutes * 60).dropLast()) // drop the Z
        let sign = offsetMinutes < 0 ? "-" : "+"
        let magnitude = abs(offsetMinutes)
        let offset = sign + twoDigits(magnitude / 60) + ":" + twoDigits(magnitude % 60)
        return local + (fraction.isEmpty ? "" : "." + fraction) + (offsetMinutes == 0 && epochSeconds % 2 == 0 ? "Z" : offset)
    }

    /// The fraction as nanoseconds (nine digits suffice for the generator).
    var nanoseconds: Int64 { Int64(fraction.padding(to: 9)) ?? 0 }

    var description: String { text }

    /// Drawn from 14 random numbers (one generator of arrays keeps the
    /// generic types simple for the compiler).
    init(seeds: [UInt64]) {
        let near = seeds[0] % 2 == 0
        let far = -30_610_224_000 + Int64(seeds[1] % 252_455_616_000) // 1000-01-01 ..< 9000-01-01
        let close = 1_598_250_600 + Int64(seeds[2] % 4)
        epochSeconds = near ? close : far
        fraction = seeds[4..<(4 + Int(seeds[3] % 10))].map { String($0 % 10) }.joined()
        offsetMinutes = Int64(seeds[13] % (2 * 1439 + 1)) - 1439
    }

    static let generator = Gen<UInt64>.value().array(of: 14).map { RandomTime(seeds: $0) }
}

/// A random order key's parts.
struct RandomKey: Sendable, CustomStringConvertible {
    static let origins = ["a", "a-b", "ab", "mtz", "mtz-committee", "z", "0", "9-9"]
    static let seqs: [Int64] = [1, 2, 9, 10, 11, 100, .max]

    let time: RandomTime
    let origin: String
    let seq: Int64

    init(seeds: [UInt64]) {
        time = RandomTime(seeds: Array(seeds[0..<14]))
        origin = Self.origins[Int(seeds[14] % UInt64(Self.origins.count))]
        seq = Self.seqs[Int(seeds[15] % UInt64(Self.seqs.count))]
    }

    var description: String { "\(time) \(origin) \(seq)" }

    static let generator = Gen<UInt64>.value().array(of: 16).map { RandomKey(seeds: $0) }
}

func twoDigits(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

extension String {
    fileprivate func padding(to length: Int) -> String {
        count >= length ? String(prefix(length)) : self + String(repeating: "0", count: length - count)
    }
}

@Suite struct TimestampProperties {
    @Test func parsesToTheInstantItWasWrittenFor() async {
        await propertyCheck(count: 500, input: RandomTime.generator) { time in
            guard let parsed = Timestamp(time.text) else { Issue.record("not parsed: \(time.text)"); return }
            #expect(parsed.epochSeconds == time.epochSeconds, "\(time.text)")
            #expect(Int64(parsed.fraction.padding(to: 9)) ?? 0 == time.nanoseconds)
            #expect(!parsed.fraction.hasSuffix("0"))
        }
    }

    @Test func sortableTextOrderIsTimeOrder() async {
        await propertyCheck(count: 2000, input: RandomTime.generator, RandomTime.generator) { a, b in
            guard let x = Timestamp(a.text), let y = Timestamp(b.text) else { Issue.record("not parsed"); return }
            let truthLess = (a.epochSeconds, a.nanoseconds) < (b.epochSeconds, b.nanoseconds)
            let truthEqual = (a.epochSeconds, a.nanoseconds) == (b.epochSeconds, b.nanoseconds)
            #expect(x.utcSortable.utf8.lexicographicallyPrecedes(y.utcSortable.utf8) == truthLess, "\(a) vs \(b)")
            #expect((x.utcSortable == y.utcSortable) == truthEqual, "\(a) vs \(b)")
            #expect((x < y) == truthLess, "\(a) vs \(b)")
            #expect((x == y) == truthEqual, "\(a) vs \(b)")
        }
    }

    @Test func orderKeyOrderIsTupleOrder() async {
        await propertyCheck(count: 2000, input: RandomKey.generator, RandomKey.generator) { a, b in
            guard let x = Timestamp(a.time.text), let y = Timestamp(b.time.text) else { Issue.record("not parsed"); return }
            let k1 = OrderKey(sentAt: x, origin: Slug(a.origin)!, seq: a.seq)
            let k2 = OrderKey(sentAt: y, origin: Slug(b.origin)!, seq: b.seq)
            let truth: Bool
            if x != y {
                truth = x < y
            } else if a.origin != b.origin {
                truth = a.origin.utf8.lexicographicallyPrecedes(b.origin.utf8)
            } else {
                truth = a.seq < b.seq
            }
            #expect((k1 < k2) == truth, "\(k1) vs \(k2)")
            #expect((k1 == k2) == (x == y && a.origin == b.origin && a.seq == b.seq))
        }
    }
}

// MARK: - Order keys

@Suite struct OrderKeys {
    func key(_ time: String, _ origin: String, _ seq: Int64) throws -> OrderKey {
        OrderKey(sentAt: try stamp(time), origin: try #require(Slug(origin)), seq: seq)
    }

    @Test func instantFirstThenOriginThenSeq() throws {
        let ordered = [
            try key("2020-08-24T09:00:00+03:00", "zz", 99),      // 06:00Z
            try key("2020-08-24T06:30:00Z", "a", 5),
            try key("2020-08-24T09:30:00+03:00", "a", 6),         // same instant, greater seq
            try key("2020-08-24T06:30:00Z", "a-b", 1),            // '-' sorts before letters
            try key("2020-08-24T06:30:00Z", "ab", 1),
            try key("2020-08-24T06:30:00.5Z", "a", 1),            // a fraction later
            try key("2020-08-24T06:30:01Z", "a", 1),
        ]
        for (earlier, later) in zip(ordered, ordered.dropFirst()) {
            #expect(earlier < later, "\(earlier) < \(later)")
            #expect(!(later < earlier))
        }
        #expect(ordered.shuffled().sorted() == ordered)
    }

    @Test func shorterOriginThatIsAPrefixSortsFirst() throws {
        #expect(try key("2020-08-24T06:30:00Z", "mtz", 9) < key("2020-08-24T06:30:00Z", "mtz-committee", 1))
        #expect(try key("2020-08-24T06:30:00Z", "mtz", 9) < key("2020-08-24T06:30:00Z", "mtz2", 1))
    }

    @Test func seqComparesAsANumber() throws {
        #expect(try key("2020-08-24T06:30:00Z", "a", 9) < key("2020-08-24T06:30:00Z", "a", 10))
        #expect(try key("2020-08-24T06:30:00Z", "a", 10) < key("2020-08-24T06:30:00Z", "a", .max))
    }

    @Test func wholeSecondBeforeItsFractions() throws {
        #expect(try key("2020-08-24T06:30:00Z", "zzz", .max) < key("2020-08-24T06:30:00.000000001Z", "a", 1))
    }

    @Test func sameInstantDifferentTextSameKey() throws {
        #expect(try key("2020-08-24T09:30:00.50+03:00", "a", 1) == key("2020-08-24T06:30:00.5Z", "a", 1))
    }

    @Test func rawValueShape() throws {
        #expect(try key("2020-08-24T09:30:00+03:00", "tractor-works", 17).rawValue == "2020-08-24T06:30:00 tractor-works 0000000000000000017")
    }

    @Test func messageKey() throws {
        let read = try valid(message("strike.reported", ["workplace": "x", "status": "strike"], origin: "potash-mine", seq: 4, sentAt: "2020-08-24T09:30:00.25+03:00"))
        #expect(read.key == (try key("2020-08-24T06:30:00.25Z", "potash-mine", 4)))
    }
}
