/// A JSON value as strikecd reads it.
///
/// Objects keep their members in the order they were read; `canonicalBytes()`
/// sorts them, so two copies that differ only in formatting, key order or string
/// escapes have the same canonical bytes (docs/design.md, "Reconciliation").
///
/// Strings are compared by Unicode scalars, never by Swift's `==`, which treats
/// canonically equivalent strings (NFC and NFD) as equal: two daemons written in
/// different languages must agree on what a duplicate is.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// A JSON number, kept as its literal so nothing is lost to binary floating point.
public struct JSONNumber: Sendable {
    /// The literal exactly as written, e.g. `17`, `-0`, `1.5e3`.
    public let literal: String

    /// The value when the literal is an integer (no fraction, no exponent) that
    /// fits in 64 bits; nil otherwise.
    public var int64: Int64? {
        if literal.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            return nil
        }
        return Int64(literal)
    }

    /// True when the literal has no fraction and no exponent, whatever its size.
    public var isIntegerLiteral: Bool {
        !literal.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") })
    }

    public init(literal: String) { self.literal = literal }

    public init(_ value: Int64) { self.literal = String(value) }

    /// The number in the canonical form: an integer within 64 bits as plain
    /// decimal (`-0` is `0`); any other number exactly as written.
    ///
    /// Only 64-bit integers are valid in a message, and this keeps every
    /// invalid number apart from them. Normalising `1.0` or `1e0` to `1` would
    /// make an invalid copy (`"seq": 1.0`) the same JSON value as a valid one
    /// (`"seq": 1`), and whichever arrived first would decide whether the
    /// message is applied or the other is dropped as its duplicate.
    public var canonical: String {
        if let int = int64 { return String(int) }
        return literal
    }
}

/// A JSON object's members in reading order. Keys are unique: the reader rejects
/// duplicates.
public struct JSONObject: Sendable {
    public var members: [(key: String, value: JSONValue)]

    public init(_ members: [(key: String, value: JSONValue)] = []) { self.members = members }

    /// The value for `key`, compared by Unicode scalars.
    public subscript(key: String) -> JSONValue? {
        for member in members where member.key.unicodeScalars.elementsEqual(key.unicodeScalars) {
            return member.value
        }
        return nil
    }

    public var keys: [String] { members.map(\.key) }
}

extension JSONValue {
    /// A short name of the kind of value, for error details.
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }
}
