/// A JSON value as strikecd reads it.
///
/// Objects keep their members in the order they were read; `canonicalBytes()`
/// sorts them, so two copies that differ only in formatting, key order or string
/// escapes have the same canonical bytes (DESIGN.md §3, "Copies").
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

    /// The canonical text of this number's decimal value: `1`, `1.0`, `10e-1` and
    /// `1e0` are all `1`; `1.5` is `15e-1`; an integer in 64 bits is its decimal.
    public var canonical: String {
        if let int = int64 { return String(int) }
        var bytes = Array(literal.utf8)
        var negative = false
        if bytes.first == UInt8(ascii: "-") { negative = true; bytes.removeFirst() }
        var digits: [UInt8] = []
        var exponent = 0
        var index = 0
        var seenPoint = false
        while index < bytes.count, bytes[index] != UInt8(ascii: "e"), bytes[index] != UInt8(ascii: "E") {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                seenPoint = true
            } else {
                digits.append(byte)
                if seenPoint { exponent -= 1 }
            }
            index += 1
        }
        if index < bytes.count {
            // Exponents beyond Int range saturate; such numbers are rejected by
            // validation anyway, this only has to be deterministic.
            let text = String(decoding: bytes[(index + 1)...], as: UTF8.self)
            exponent += Int(text) ?? (text.hasPrefix("-") ? -Int(Int32.max) : Int(Int32.max))
        }
        while let first = digits.first, first == UInt8(ascii: "0") { digits.removeFirst() }
        if digits.isEmpty { return "0" }
        while let last = digits.last, last == UInt8(ascii: "0") { digits.removeLast(); exponent += 1 }
        let mantissa = String(decoding: digits, as: UTF8.self)
        return (negative ? "-" : "") + mantissa + (exponent == 0 ? "" : "e\(exponent)")
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
