import StrikeCore

/// A deterministic pseudo-random generator (SplitMix64), so a failing seed
/// reproduces exactly.
public struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A random corpus of copies over a small universe of entities, so that
/// collisions (same workplace, same instant, same (origin, seq)) are common.
public struct Corpus {
    /// Every copy's bytes, in generation order.
    public var copies: [[UInt8]] = []

    static let origins = ["mtz", "bmz", "grodno-azot", "belaz"]
    static let workplaces = ["mtz", "bmz", "azot", "belaz", "naftan"]
    /// At every level (format v2): a neighbourhood committee, a city, a
    /// region, the nation. `council.formed` mostly gives the level its name
    /// says, sometimes another, so that elections upward and irregular ones
    /// (to the same or a lower level) both occur.
    static let councils = ["district-5", "city", "region", "nation"]
    static let levels = ["neighbourhood", "local", "regional", "national"]
    static let delegates = ["rook", "wren", "finch", "heron"]
    static let demands = ["new-elections", "free-prisoners", "end-contracts", "wages"]
    static let actions = ["general-strike", "march-sunday"]

    /// - Parameters:
    ///   - conflictOneIn: one valid message in this many gets rival versions
    ///     under its (origin, seq).
    ///   - rivals: how many rival versions such a message gets (conflicts of
    ///     three and more versions with more than one).
    public init(seed: UInt64, messages: Int, conflictOneIn: Int = 12, rivals: ClosedRange<Int> = 1...1) {
        var rng = SplitMix(seed: seed)
        var valid: [JSONValue] = []
        var nextSeq: [String: Int64] = [:]
        for _ in 0..<messages {
            let origin = Corpus.origins.randomElement(using: &rng)!
            var seq = (nextSeq[origin] ?? 0) + 1
            if Int.random(in: 0..<10, using: &rng) == 0 { seq += 1 }  // a gap
            nextSeq[origin] = seq
            valid.append(Corpus.message(origin: origin, seq: seq, rng: &rng))
        }
        var values: [JSONValue] = []
        for message in valid {
            values.append(message)
            // Conflicting versions of the same (origin, seq).
            if Int.random(in: 0..<conflictOneIn, using: &rng) == 0, case .object(let object) = message,
               case .string(let origin)? = object["origin"], case .number(let seq)? = object["seq"], let n = seq.int64 {
                let count = rivals.count > 1 ? Int.random(in: rivals, using: &rng) : rivals.lowerBound
                for _ in 0..<count { values.append(Corpus.message(origin: origin, seq: n, rng: &rng)) }
            }
        }
        for value in values {
            let copiesOfThis = [1, 1, 1, 2, 3].randomElement(using: &rng)!
            for _ in 0..<copiesOfThis {
                copies.append(Scrambler.write(value, rng: &rng))
            }
        }
        // Invalid copies, some with a readable envelope (they count for gaps).
        for _ in 0..<(messages / 5 + 1) {
            let invalid = Corpus.invalidCopy(rng: &rng, nextSeq: &nextSeq)
            for _ in 0..<[1, 1, 2].randomElement(using: &rng)! { copies.append(invalid) }
        }
    }

    static func time(_ rng: inout SplitMix) -> String {
        // A narrow window so equal instants happen, written in several offsets.
        let minute = Int.random(in: 0..<40, using: &rng)
        let utcHour = 6 + minute / 20
        let utcMinute = minute % 20
        let second = [0, 0, 30].randomElement(using: &rng)!
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: return "2020-08-24T\(two(utcHour)):\(two(utcMinute)):\(two(second))Z"
        case 1: return "2020-08-24T\(two(utcHour + 3)):\(two(utcMinute)):\(two(second))+03:00"
        default:
            let fraction = [".0", ".000", ""].randomElement(using: &rng)!
            return "2020-08-24T\(two(utcHour - 1)):\(two(utcMinute)):\(two(second))\(fraction)-01:00"
        }
    }

    static func message(origin: String, seq: Int64, rng: inout SplitMix) -> JSONValue {
        func pick(_ list: [String]) -> JSONValue { .string(list.randomElement(using: &rng)!) }
        func count(_ range: ClosedRange<Int64>) -> JSONValue { .number(JSONNumber(Int64.random(in: range, using: &rng))) }
        func maybe(_ value: @autoclosure () -> JSONValue, _ rng: inout SplitMix) -> JSONValue? {
            Bool.random(using: &rng) ? value() : nil
        }
        var data: [(key: String, value: JSONValue)] = []
        let type: String
        switch Int.random(in: 0..<11, using: &rng) {
        case 0:
            type = "workplace.reported"
            data.append(("workplace", pick(workplaces)))
            if Bool.random(using: &rng) { data.append(("name", pick(["Tractor Works", "Auto Plant", "Нафтан", "Azot"]))) }
            if Bool.random(using: &rng) { data.append(("kind", pick(["plant", "factory", "mine"]))) }
            if Bool.random(using: &rng) { data.append(("town", pick(["Minsk", "Grodno", "Zhodino"]))) }
            if Bool.random(using: &rng) { data.append(("region", pick(["minsk", "grodno"]))) }
            if Bool.random(using: &rng) { data.append(("headcount", count(100...20000))) }
            if Bool.random(using: &rng) { data.append(("ownership", pick(["state", "private"]))) }
        case 1, 2:
            type = "strike.reported"
            data.append(("workplace", pick(workplaces)))
            data.append(("status", pick(["working", "strike", "partial", "go-slow", "lockout"])))
            if Bool.random(using: &rng) { data.append(("participants", count(0...5000))) }
        case 3:
            type = "council.formed"
            let index = Int.random(in: 0..<councils.count, using: &rng)
            data.append(("council", .string(councils[index])))
            data.append(("level", Int.random(in: 0..<5, using: &rng) == 0 ? pick(levels) : .string(levels[index])))
            if Bool.random(using: &rng) { data.append(("name", pick(["City strike council", "Regional council"]))) }
        case 4:
            type = "delegate.elected"
            data.append(("delegate", pick(delegates)))
            // From a workplace, or from a council (mostly to the one above).
            if Int.random(in: 0..<3, using: &rng) == 0 {
                let index = Int.random(in: 0..<councils.count - 1, using: &rng)
                data.append(("from_council", .string(councils[index])))
                data.append(("council", Bool.random(using: &rng) ? .string(councils[index + 1]) : pick(councils)))
            } else {
                data.append(("workplace", pick(workplaces)))
                data.append(("council", pick(councils)))
            }
            data.append(("votes", .record(["for": count(50...100), "against": count(0...49), "abstain": count(0...10)])))
        case 5:
            type = "delegate.recalled"
            data.append(("delegate", pick(delegates)))
            if Int.random(in: 0..<3, using: &rng) == 0 {
                data.append(("from_council", pick(councils)))
            } else {
                data.append(("workplace", pick(workplaces)))
            }
            data.append(("votes", .record(["for": count(50...100), "against": count(0...49)])))
        case 6:
            data.append(("delegate", pick(delegates)))
            if Bool.random(using: &rng) {
                type = "delegate.status"
                data.append(("status", pick(["active", "detained", "missing", "released", "resigned"])))
            } else {
                type = "delegate.safety"
                data.append(("status", pick(["free", "detained", "arrested", "charged", "sentenced", "missing", "exiled"])))
                if Bool.random(using: &rng) { data.append(("until", pick(["2020-09-08", "2021-02-28"]))) }
                if Bool.random(using: &rng) { data.append(("note", pick(["taken at the gate", "seen in Vilnius"]))) }
            }
        case 7:
            type = "demand.proposed"
            data.append(("demand", pick(demands)))
            data.append(("text", pick(["New elections", "Free all political prisoners", "Abolish the contract system"])))
            data.append(("category", pick(["economic", "democratic"])))
        case 8:
            type = Bool.random(using: &rng) ? "demand.adopted" : "demand.outcome"
            data.append(("demand", pick(demands)))
            data.append(("workplace", pick(workplaces)))
            if type == "demand.outcome" { data.append(("outcome", pick(["presented", "won", "rejected"]))) }
        case 9:
            type = "action.called"
            data.append(("action", pick(actions)))
            data.append(("kind", pick(["general-strike", "march"])))
            data.append(("starts_at", .string(time(&rng))))
            if Bool.random(using: &rng) { data.append(("hours", count(24...48))) }
            if Bool.random(using: &rng) { data.append(("demands", .array([pick(demands), pick(demands)]))) }
        default:
            type = "action.joined"
            data.append(("action", pick(actions)))
            data.append(("workplace", pick(workplaces)))
            if Bool.random(using: &rng) { data.append(("participants", count(0...3000))) }
        }
        if Int.random(in: 0..<8, using: &rng) == 0 { data.append(("future_field", .string("ignored"))) }
        return .object(JSONObject([
            ("v", 1), ("origin", .string(origin)), ("seq", .number(JSONNumber(seq))),
            ("sent_at", .string(time(&rng))), ("type", .string(type)), ("data", .object(JSONObject(data))),
        ]))
    }

    static func invalidCopy(rng: inout SplitMix, nextSeq: inout [String: Int64]) -> [UInt8] {
        let origin = origins.randomElement(using: &rng)!
        let seq = (nextSeq[origin] ?? 0) + Int64.random(in: 1...2, using: &rng)
        nextSeq[origin] = max(nextSeq[origin] ?? 0, seq)
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: return Array("{\"v\":1,\"origin\":\"\(origin)\",\"seq\":\(seq),\"sent_at\":\"2020-08-24T09:00:00Z\",\"type\":\"strike.reported\",\"data\":{\"workplace\":\"mtz\"}}".utf8)
        case 1: return Array("{\"v\":1,\"origin\":\"\(origin)\",\"seq\":\(seq),\"sent_at\":\"2020-08-24T09:00:00Z\",\"type\":\"delegate.elected\",\"data\":{\"delegate\":\"rook\",\"workplace\":\"mtz\",\"council\":\"city\",\"votes\":{\"for\":3,\"against\":3}}}".utf8)
        case 2: return Array("{\"v\":1,\"origin\":\"\(origin)\",\"seq\":\(seq),\"sent_at\":\"2020-08-24T09:00:00Z\",\"type\":\"rumour\",\"data\":{}}".utf8)
        case 3: return Array("{\"v\":1,\"origin\":\"\(origin)\",\"seq\":\(seq),\"sent_at\":\"2020-08-24T09:00:00Z\",\"type\":\"strike.reported\",\"data\":{\"workplace\":\"mtz\",\"status\":\"strike\"".utf8)
        case 4: return Array("{\"a\":1,\"a\":2}".utf8)
        case 6: return Array("{\"v\":1,\"origin\":\"\(origin)\",\"seq\":\(seq),\"sent_at\":\"2020-08-24T09:00:00Z\",\"type\":\"delegate.elected\",\"data\":{\"delegate\":\"rook\",\"workplace\":\"mtz\",\"from_council\":\"city\",\"council\":\"region\",\"votes\":{\"for\":5,\"against\":3}}}".utf8)
        case 7: return Array("{\"v\":1,\"origin\":\"\(origin)\",\"seq\":\(seq),\"sent_at\":\"2020-08-24T09:00:00Z\",\"type\":\"delegate.recalled\",\"data\":{\"delegate\":\"rook\",\"votes\":{\"for\":5,\"against\":3}}}".utf8)
        default: return [0xFF, 0xFE, UInt8(truncatingIfNeeded: seq)]
        }
    }
}

/// Writes a JSON value with random member order, whitespace and escapes: the
/// same value, differently formatted.
public enum Scrambler {
    public static func write(_ value: JSONValue, rng: inout SplitMix) -> [UInt8] {
        var out = ""
        emit(value, rng: &rng, into: &out)
        return Array(out.utf8)
    }

    private static func space(_ rng: inout SplitMix) -> String {
        ["", "", "", " ", "\t", "  "].randomElement(using: &rng)!
    }

    private static func emit(_ value: JSONValue, rng: inout SplitMix, into out: inout String) {
        out += space(&rng)
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n.literal
        case .string(let s): out += string(s, rng: &rng)
        case .array(let elements):
            out += "["
            for (i, element) in elements.enumerated() {
                if i > 0 { out += "," }
                emit(element, rng: &rng, into: &out)
            }
            out += space(&rng) + "]"
        case .object(let object):
            out += "{"
            for (i, member) in object.members.shuffled(using: &rng).enumerated() {
                if i > 0 { out += "," }
                out += space(&rng) + string(member.key, rng: &rng) + space(&rng) + ":"
                emit(member.value, rng: &rng, into: &out)
            }
            out += space(&rng) + "}"
        }
        out += space(&rng)
    }

    private static func string(_ text: String, rng: inout SplitMix) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "/": out += Bool.random(using: &rng) ? "\\/" : "/"
            default:
                if Int.random(in: 0..<6, using: &rng) == 0, scalar.value < 0x10000 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
