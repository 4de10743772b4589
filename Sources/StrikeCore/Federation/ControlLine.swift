// SECURITY: control lines arrive from other nodes, from sync folders and from
// sticks: hostile input. They are read strictly (known kinds, known members,
// bounded numbers of origins and ranges) and they can never change the state:
// a `copy` only unwraps a copy that the spool then judges like any other, and
// `have`/`cannot` at worst cause a re-send or stop this node asking a peer for
// a range (docs/federation.md, "Gap repair").

/// Seq ranges per origin: `{"mtz": [[1, 41], [45, 47]]}`, each range
/// inclusive, sorted and disjoint once normalised.
public typealias SeqRanges = [String: [ClosedRange<Int64>]]

/// A line of a federation batch that is not a copy (docs/federation.md).
///
/// Every control line is one JSON object whose first member is `"strikecd"`,
/// and is written starting with the bytes `{"strikecd":`, which no message
/// can start with (a message with a `strikecd` member is invalid). The
/// spool recognises them by that prefix; a line with the prefix that does
/// not read as a control line is judged as a copy, and rejected as junk.
public enum ControlLine: Sendable, Equatable {
    /// The first line of a batch: who wrote it. Informational only: the
    /// peer a batch came from is what NNCP authenticated, or the inbox it
    /// was found in, never this claim.
    case batch(node: String)
    /// A copy whose bytes cannot be a line as they are (they hold a CR or
    /// LF: a pretty-printed one-message file), base64-encoded. The spool
    /// reads the decoded bytes as the copy.
    case copy([UInt8])
    /// What `node` holds per origin, and what it lacks (`want`), for `to`.
    /// `full` (the timer's reports): also re-send what `node` does not list
    /// in `ranges` and `to` holds; without it (the reports that ride with
    /// batches, while copies may still be on their way) only `want`.
    case have(node: String, to: String?, ranges: SeqRanges, want: SeqRanges, full: Bool)
    /// What `node` was asked for by `to` and cannot supply (never received,
    /// or kept from `to` by its filter): `to` stops asking for it.
    case cannot(node: String, to: String?, ranges: SeqRanges)

    /// The version of the control lines this strikecd writes and reads.
    public static let version: Int64 = 1
    /// The bytes every control line starts with.
    public static let prefix: [UInt8] = Array(#"{"strikecd":"#.utf8)
    /// At most this many origins, and ranges per origin, in one line: a
    /// report cut short asks again next time.
    public static let maximumOrigins = 512
    public static let maximumRanges = 256

    /// Whether `line` is meant as a control line (its prefix).
    public static func isControl(_ line: some Collection<UInt8>) -> Bool {
        line.count >= prefix.count && line.prefix(prefix.count).elementsEqual(prefix)
    }

    /// Reads a control line; nil when it is not a well-formed one of this
    /// version (it is then judged as a copy, and rejected).
    public static func read(_ line: some Collection<UInt8>) -> ControlLine? {
        guard isControl(line), let value = try? JSONReader.read(line), case .object(let object) = value,
              case .string(let kind)? = object["strikecd"], Self.int64(object["v"]) == version else { return nil }
        func string(_ key: String) -> String? {
            if case .string(let text)? = object[key], Slug.isValid(text) { return text }
            return nil
        }
        func only(_ keys: Set<String>) -> Bool { object.keys.allSatisfy { keys.contains($0) } }
        switch kind {
        case "batch":
            guard only(["strikecd", "v", "node"]), let node = string("node") else { return nil }
            return .batch(node: node)
        case "copy":
            guard only(["strikecd", "v", "base64"]), case .string(let text)? = object["base64"],
                  let bytes = Base64.decode(text), bytes.count <= ValidationPolicy.maximumMessageBytes else { return nil }
            return .copy(bytes)
        case "have":
            guard only(["strikecd", "v", "node", "to", "ranges", "want", "full"]), let node = string("node"),
                  let ranges = Self.ranges(object["ranges"]), let want = Self.ranges(object["want"] ?? .object(JSONObject())) else { return nil }
            if object["to"] != nil, string("to") == nil { return nil }
            var full = false
            if let value = object["full"] {
                guard case .bool(let flag) = value else { return nil }
                full = flag
            }
            return .have(node: node, to: string("to"), ranges: ranges, want: want, full: full)
        case "cannot":
            guard only(["strikecd", "v", "node", "to", "ranges"]), let node = string("node"), let ranges = Self.ranges(object["ranges"]) else { return nil }
            if object["to"] != nil, string("to") == nil { return nil }
            return .cannot(node: node, to: string("to"), ranges: ranges)
        default:
            return nil
        }
    }

    /// The line's bytes, without the newline.
    public var bytes: [UInt8] {
        var members: [(key: String, value: JSONValue)] = []
        switch self {
        case .batch(let node):
            members = [("strikecd", "batch"), ("v", .number(JSONNumber(Self.version))), ("node", .string(node))]
        case .copy(let bytes):
            members = [("strikecd", "copy"), ("v", .number(JSONNumber(Self.version))), ("base64", .string(Base64.encode(bytes)))]
        case .have(let node, let to, let ranges, let want, let full):
            members = [("strikecd", "have"), ("v", .number(JSONNumber(Self.version))), ("node", .string(node))]
            if let to { members.append(("to", .string(to))) }
            members += [("ranges", Self.json(ranges)), ("want", Self.json(want))]
            if full { members.append(("full", .bool(true))) }
        case .cannot(let node, let to, let ranges):
            members = [("strikecd", "cannot"), ("v", .number(JSONNumber(Self.version))), ("node", .string(node))]
            if let to { members.append(("to", .string(to))) }
            members.append(("ranges", Self.json(ranges)))
        }
        return JSONWriter.bytes(.object(JSONObject(members)), style: .compact)
    }

    static func int64(_ value: JSONValue?) -> Int64? {
        if case .number(let number)? = value { return number.int64 }
        return nil
    }

    /// `ranges` as JSON: `{"mtz": [[1, 41], [45, 47]]}`, origins sorted.
    public static func json(_ ranges: SeqRanges) -> JSONValue {
        .object(JSONObject(ranges.keys.sorted().map { origin in
            (origin, .array(ranges[origin]!.map { .array([.number(JSONNumber($0.lowerBound)), .number(JSONNumber($0.upperBound))]) }))
        }))
    }

    /// Reads ranges written by `json`; nil when malformed or too many.
    public static func ranges(_ value: JSONValue?) -> SeqRanges? {
        guard case .object(let object)? = value, object.members.count <= maximumOrigins else { return nil }
        var result: SeqRanges = [:]
        for (origin, list) in object.members {
            guard Slug.isValid(origin), case .array(let items) = list, items.count <= maximumRanges else { return nil }
            var ranges: [ClosedRange<Int64>] = []
            for item in items {
                guard case .array(let pair) = item, pair.count == 2, let first = Self.int64(pair[0]), let last = Self.int64(pair[1]),
                      first >= 1, first <= last else { return nil }
                ranges.append(first...last)
            }
            result[origin] = SeqRangeSet.normalised(ranges)
        }
        return result
    }
}

/// Operations on sorted, disjoint lists of inclusive seq ranges.
public enum SeqRangeSet {
    /// Sorted, merged (overlapping or adjacent ranges become one).
    public static func normalised(_ ranges: [ClosedRange<Int64>]) -> [ClosedRange<Int64>] {
        var result: [ClosedRange<Int64>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = result.last, range.lowerBound <= last.upperBound || range.lowerBound - 1 == last.upperBound {
                result[result.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }

    /// The seqs of `a` not in `b`; both normalised.
    public static func subtracting(_ a: [ClosedRange<Int64>], _ b: [ClosedRange<Int64>]) -> [ClosedRange<Int64>] {
        var result: [ClosedRange<Int64>] = []
        for range in a {
            var low = range.lowerBound
            var done = false
            for cut in b where cut.upperBound >= low && cut.lowerBound <= range.upperBound {
                if cut.lowerBound > low { result.append(low...(cut.lowerBound - 1)) }
                if cut.upperBound >= range.upperBound { done = true; break }
                low = cut.upperBound + 1
            }
            if !done { result.append(low...range.upperBound) }
        }
        return result
    }

    /// The seqs in both; both normalised.
    public static func intersecting(_ a: [ClosedRange<Int64>], _ b: [ClosedRange<Int64>]) -> [ClosedRange<Int64>] {
        var result: [ClosedRange<Int64>] = []
        for x in a {
            for y in b where y.upperBound >= x.lowerBound && y.lowerBound <= x.upperBound {
                result.append(max(x.lowerBound, y.lowerBound)...min(x.upperBound, y.upperBound))
            }
        }
        return result
    }

    /// How many seqs, saturated at Int64.max.
    public static func count(_ ranges: [ClosedRange<Int64>]) -> Int64 {
        var total: Int64 = 0
        for range in ranges {
            let (width, overflow) = range.upperBound.subtractingReportingOverflow(range.lowerBound)
            if overflow || width == .max { return .max }
            let (sum, over) = total.addingReportingOverflow(width + 1)
            if over { return .max }
            total = sum
        }
        return total
    }
}
