import StrikeCore
import Testing

// Helpers shared by the StrikeCore tests: a fixed clock, reading text as a
// copy, and building messages as JSON values that a test can then break.

/// 2020-09-01T00:00:00Z, the "now" of every test that does not say otherwise.
let septemberFirst: Int64 = 1_598_918_400

/// The policy of most tests: the clock stands at `septemberFirst`, skew 15 min.
let testPolicy = ValidationPolicy(now: septemberFirst)

/// Reads `text` (as UTF-8) as one copy.
func read(_ text: String, policy: ValidationPolicy = testPolicy) -> CopyReading {
    MessageReader.read(Array(text.utf8), policy: policy)
}

/// Reads `value` written compactly, as a committee's tool would send it.
func read(_ value: JSONValue, policy: ValidationPolicy = testPolicy) -> CopyReading {
    read(JSONWriter.string(value, style: .compact), policy: policy)
}

/// Reads a text that must be valid and returns its message.
func valid(_ text: String, policy: ValidationPolicy = testPolicy, sourceLocation: SourceLocation = #_sourceLocation) throws -> Message {
    let reading = read(text, policy: policy)
    if let rejection = reading.rejection {
        Issue.record("expected a valid message, got \(rejection.code.rawValue): \(rejection.detail)", sourceLocation: sourceLocation)
    }
    return try #require(reading.message, sourceLocation: sourceLocation)
}

/// An envelope around `data`, with defaults for everything else.
func envelope(
    type: String, data: JSONValue, origin: String = "tractor-works", seq: Int64 = 1,
    sentAt: String = "2020-08-24T09:30:00+03:00"
) -> JSONValue {
    .record([
        "v": 1,
        "origin": .string(origin),
        "seq": .number(JSONNumber(seq)),
        "sent_at": .string(sentAt),
        "type": .string(type),
        "data": data,
    ])
}

/// A message from its data, as text: `message("strike.reported", ["workplace": "x", …])`.
func message(
    _ type: String, _ data: KeyValuePairs<String, JSONValue>, origin: String = "tractor-works", seq: Int64 = 1,
    sentAt: String = "2020-08-24T09:30:00+03:00"
) -> String {
    JSONWriter.string(envelope(type: type, data: .record(data), origin: origin, seq: seq, sentAt: sentAt), style: .compact)
}

extension JSONValue {
    /// A copy with the member at `path` set to `value`, or removed when `value`
    /// is nil. Intermediate objects must exist.
    func setting(_ path: [String], to value: JSONValue?) -> JSONValue {
        guard case .object(var object) = self, let first = path.first else { return self }
        let index = object.members.firstIndex { $0.key == first }
        if path.count == 1 {
            switch (index, value) {
            case (let index?, let value?): object.members[index].value = value
            case (let index?, nil): object.members.remove(at: index)
            case (nil, let value?): object.members.append((key: first, value: value))
            case (nil, nil): break
            }
        } else if let index {
            object.members[index].value = object.members[index].value.setting(Array(path.dropFirst()), to: value)
        }
        return .object(object)
    }

    func setting(_ key: String, to value: JSONValue?) -> JSONValue {
        setting(key.split(separator: ".").map(String.init), to: value)
    }
}

/// A string of `count` copies of `piece`.
func repeated(_ piece: String, _ count: Int) -> String {
    String(repeating: piece, count: count)
}

/// All orderings of `elements` (Heap's algorithm); fine for up to 6 or so.
func permutations<T>(_ elements: [T]) -> [[T]] {
    var result: [[T]] = []
    var array = elements
    func generate(_ n: Int) {
        if n <= 1 { result.append(array); return }
        for i in 0..<n {
            generate(n - 1)
            array.swapAt(n % 2 == 0 ? i : 0, n - 1)
        }
    }
    generate(array.count)
    return result
}
