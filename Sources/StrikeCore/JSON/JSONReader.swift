// SECURITY: this reads bytes from couriers' USB sticks, sync tools and local
// clients: every input is hostile. It accepts exactly RFC 8259 JSON in UTF-8 and
// additionally refuses what would let two readers see two different messages in
// the same bytes: duplicate object keys and lone UTF-16 surrogates. Nesting is
// bounded so a deep document cannot exhaust the stack; size is bounded by the
// caller before reading.

/// Why bytes could not be read as one JSON value.
public struct JSONReadError: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The bytes are not valid UTF-8.
        case utf8
        /// Not JSON (syntax), including nesting beyond the limit.
        case syntax
        /// An object has the same key twice.
        case duplicateKey
        /// A `\u` escape names half of a UTF-16 surrogate pair.
        case loneSurrogate
    }

    public let kind: Kind
    /// Byte offset (0-based) where the problem was found.
    public let offset: Int
    public let detail: String
    /// The input ended before the value did: what a file still being written,
    /// or an interrupted copy, looks like.
    public var endedEarly = false

    public init(kind: Kind, offset: Int, detail: String, endedEarly: Bool = false) {
        self.kind = kind
        self.offset = offset
        self.detail = detail
        self.endedEarly = endedEarly
    }
}

/// Reads one JSON value from UTF-8 bytes.
///
/// Use `JSONReader.read(_:)`; it checks UTF-8 first (so an encoding problem is
/// reported as such, not as a syntax error), then parses the whole input and
/// rejects trailing bytes other than whitespace.
public struct JSONReader: ~Copyable {
    /// Deeper nesting is refused. Messages nest three levels; 64 leaves room for
    /// unknown `data` fields without letting input drive the recursion.
    public static let maximumDepth = 64

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    public static func read(_ input: some Collection<UInt8>) throws(JSONReadError) -> JSONValue {
        let result: Result<JSONValue, JSONReadError>? = input.withContiguousStorageIfAvailable { buffer in
            Self.read(buffer: buffer)
        }
        switch result ?? Array(input).withUnsafeBufferPointer({ Self.read(buffer: $0) }) {
        case .success(let value): return value
        case .failure(let error): throw error
        }
    }

    private static func read(buffer: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONReadError> {
        if let bad = UTF8Validation.firstInvalidOffset(in: buffer) {
            // A multi-byte sequence cut off by the end of the input: a valid
            // lead byte whose sequence needs more bytes than remain.
            let lead = buffer[bad]
            let needed = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xC2 && lead <= 0xDF ? 2 : 0
            let cut = needed > buffer.count - bad
                && buffer[(bad + 1)...].allSatisfy { $0 & 0xC0 == 0x80 }
            return .failure(JSONReadError(kind: .utf8, offset: bad, detail: "not valid UTF-8 at byte \(bad + 1)", endedEarly: cut))
        }
        var reader = JSONReader(buffer)
        do throws(JSONReadError) {
            if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF {
                throw reader.error(.syntax, "starts with a byte order mark; save the file as UTF-8 without BOM")
            }
            reader.skipWhitespace()
            let value = try reader.parseValue()
            reader.skipWhitespace()
            if reader.index < buffer.count {
                throw reader.error(.syntax, "unexpected \(reader.describe(reader.index)) after the JSON value")
            }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    // MARK: - Grammar

    private mutating func parseValue() throws(JSONReadError) -> JSONValue {
        guard index < bytes.count else { throw error(.syntax, "unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error(.syntax, "unexpected \(describe(index))")
        }
    }

    private mutating func enter() throws(JSONReadError) {
        depth += 1
        if depth > Self.maximumDepth {
            throw error(.syntax, "nested deeper than \(Self.maximumDepth) levels")
        }
    }

    private mutating func parseObject() throws(JSONReadError) -> JSONValue {
        try enter()
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(JSONObject(members))
        }
        // Keys are compared by their UTF-8 bytes (Unicode scalars), not by
        // Swift String equality, which would merge NFC and NFD spellings.
        // Made only for objects with many members (see `isDuplicate`).
        var seen: Set<[UInt8]>?
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw error(.syntax, index < bytes.count ? "expected a string key, found \(describe(index))" : "unexpected end of input in an object")
            }
            let keyOffset = index
            let key = try parseString()
            if Self.isDuplicate(key, in: members, seen: &seen) {
                throw JSONReadError(kind: .duplicateKey, offset: keyOffset, detail: "duplicate key \"\(Self.printable(key))\"")
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw error(.syntax, "expected ':' after key \"\(Self.printable(key))\"")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append((key, value))
            skipWhitespace()
            guard index < bytes.count else { throw error(.syntax, "unexpected end of input in an object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; break }
            throw error(.syntax, "expected ',' or '}' in an object, found \(describe(index))")
        }
        depth -= 1
        return .object(JSONObject(members))
    }

    /// Objects with fewer members than this find a duplicate key by comparing
    /// it with each key read so far: a message's objects have at most eight
    /// members, and a set of byte arrays cost an allocation per key and per
    /// object (the largest share of reading a message). Larger objects, which
    /// only hostile or unknown input has, switch to the set, so that thousands
    /// of keys never cost their square.
    static let linearKeyLimit = 16

    private static func isDuplicate(_ key: String, in members: [(key: String, value: JSONValue)], seen: inout Set<[UInt8]>?) -> Bool {
        if members.count < linearKeyLimit {
            let count = key.utf8.count
            return members.contains { $0.key.utf8.count == count && $0.key.utf8.elementsEqual(key.utf8) }
        }
        if seen == nil { seen = Set(members.map { Array($0.key.utf8) }) }
        return !seen!.insert(Array(key.utf8)).inserted
    }

    private mutating func parseArray() throws(JSONReadError) -> JSONValue {
        try enter()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw error(.syntax, "unexpected end of input in an array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; break }
            throw error(.syntax, "expected ',' or ']' in an array, found \(describe(index))")
        }
        depth -= 1
        return .array(elements)
    }

    private mutating func parseString() throws(JSONReadError) -> String {
        let start = index
        index += 1
        // Fast path: no escapes. The input is already valid UTF-8.
        var scan = index
        while scan < bytes.count {
            let byte = bytes[scan]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<scan]), as: UTF8.self)
                index = scan + 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 {
                throw JSONReadError(kind: .syntax, offset: scan, detail: "control character 0x\(Self.hex(byte)) inside a string (escape it)")
            }
            scan += 1
        }
        if scan >= bytes.count {
            throw JSONReadError(kind: .syntax, offset: start, detail: "unterminated string", endedEarly: true)
        }
        var out: [UInt8] = Array(bytes[index..<scan])
        index = scan
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    let escapeOffset = index - 2
                    let unit = try parseHex4()
                    var scalarValue: UInt32
                    if (0xD800...0xDBFF).contains(unit) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw JSONReadError(kind: .loneSurrogate, offset: escapeOffset, detail: "lone surrogate \\u\(Self.hex16(unit)) in a string")
                        }
                        index += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else {
                            throw JSONReadError(kind: .loneSurrogate, offset: escapeOffset, detail: "lone surrogate \\u\(Self.hex16(unit)) in a string")
                        }
                        scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(unit) {
                        throw JSONReadError(kind: .loneSurrogate, offset: escapeOffset, detail: "lone surrogate \\u\(Self.hex16(unit)) in a string")
                    } else {
                        scalarValue = UInt32(unit)
                    }
                    // Always valid here: surrogates were handled above.
                    let scalar = Unicode.Scalar(scalarValue)!
                    out.append(contentsOf: UTF8.encode(scalar)!)
                default:
                    throw JSONReadError(kind: .syntax, offset: index - 2, detail: "invalid escape \\\(Self.printableByte(escape)) in a string")
                }
            default:
                if byte < 0x20 {
                    throw JSONReadError(kind: .syntax, offset: index, detail: "control character 0x\(Self.hex(byte)) inside a string (escape it)")
                }
                out.append(byte)
                index += 1
            }
        }
        throw JSONReadError(kind: .syntax, offset: start, detail: "unterminated string", endedEarly: true)
    }

    private mutating func parseHex4() throws(JSONReadError) -> UInt16 {
        guard index + 4 <= bytes.count else { throw error(.syntax, "incomplete \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error(.syntax, "invalid hex digit in a \\u escape")
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    private mutating func parseNumber() throws(JSONReadError) -> JSONNumber {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw error(.syntax, "invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) { throw error(.syntax, "number with a leading zero") }
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw error(.syntax, "invalid number: no digit after '.'") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error(.syntax, "invalid number: no digit in the exponent") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        return JSONNumber(literal: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONReadError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error(.syntax, "unexpected end of input") }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] {
            throw error(.syntax, "unexpected \(describe(index))")
        }
        index += count
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    // MARK: - Diagnostics

    private func error(_ kind: JSONReadError.Kind, _ detail: String) -> JSONReadError {
        JSONReadError(kind: kind, offset: index, detail: detail, endedEarly: index >= bytes.count)
    }

    private func describe(_ at: Int) -> String {
        guard at < bytes.count else { return "end of input" }
        return "'\(Self.printableByte(bytes[at]))' at byte \(at + 1)"
    }

    static func printableByte(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : "0x" + hex(byte)
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }

    static func hex16(_ value: UInt16) -> String {
        hex(UInt8(value >> 8)) + hex(UInt8(value & 0xFF))
    }

    /// A key or value shortened and stripped of control characters, for details.
    static func printable(_ text: String, limit: Int = 40) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(limit) {
            out.unicodeScalars.append(scalar.value < 0x20 || scalar.value == 0x7F ? "?" : scalar)
        }
        if text.unicodeScalars.count > limit { out += "…" }
        return out
    }
}
