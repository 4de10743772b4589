import StrikeCore
import Testing

// The strict reader: RFC 8259 JSON in UTF-8, and no duplicate keys, lone
// surrogates, byte order mark or nesting beyond 64.

func readJSON(_ bytes: [UInt8]) -> Result<JSONValue, JSONReadError> {
    do { return .success(try JSONReader.read(bytes)) } catch { return .failure(error) }
}

func readJSON(_ text: String) -> Result<JSONValue, JSONReadError> { readJSON(Array(text.utf8)) }

func errorKind(_ text: String) -> JSONReadError.Kind? { errorKind(Array(text.utf8)) }

func errorKind(_ bytes: [UInt8]) -> JSONReadError.Kind? {
    if case .failure(let error) = readJSON(bytes) { return error.kind }
    return nil
}

/// The canonical text of what `text` reads as, or nil when it does not read.
func canonicalText(_ text: String) -> String? {
    guard case .success(let value) = readJSON(text) else { return nil }
    return JSONWriter.string(value)
}

@Suite struct JSONSyntax {
    /// Valid JSON and what it reads as (in canonical form).
    @Test(arguments: [
        ("{}", "{}"),
        ("[]", "[]"),
        ("0", "0"),
        ("-0", "0"),
        ("17", "17"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("true", "true"),
        ("false", "false"),
        ("null", "null"),
        ("\"\"", "\"\""),
        (" \t\r\n{ \"a\" :\n[ 1 , \"x\" , true , null , { } ] }\n ", "{\"a\":[1,\"x\",true,null,{}]}"),
        ("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\\"\\\\/\\b\\f\\n\\r\\t\""),
        ("\"\\u00e9\"", "\"é\""),
        ("\"\\u00E9\"", "\"é\""),
        ("\"\\u0000\"", "\"\\u0000\""),
        ("\"\\u001F\"", "\"\\u001f\""),
        ("\"\\ud83d\\ude00\"", "\"😀\""),
        ("\"\\uD83D\\uDE00\"", "\"😀\""),
        ("\"\\udbff\\udfff\"", "\"\u{10FFFF}\""),
        ("\"\\u20ac\"", "\"€\""),
        ("\"raw é € 😀 ✊🏽\"", "\"raw é € 😀 ✊🏽\""),
        ("[1.5, -2.25e-3, 1E+2, 0.0]", "[1.5,-2.25e-3,1E+2,0.0]"),
        ("{\"b\":1,\"a\":2}", "{\"a\":2,\"b\":1}"),
    ])
    func valid(text: String, canonical: String) {
        #expect(canonicalText(text) == canonical)
    }

    @Test(arguments: [
        ("trailing garbage", "{}x"),
        ("two values", "{} {}"),
        ("two values on two lines", "{\"a\":1}\n{\"a\":2}"),
        ("trailing comma in array", "[1,]"),
        ("trailing comma in object", "{\"a\":1,}"),
        ("leading comma", "[,1]"),
        ("leading zero", "01"),
        ("negative leading zero", "-01"),
        ("double zero", "00"),
        ("plus sign", "+1"),
        ("bare fraction", ".5"),
        ("no digit after point", "1."),
        ("no exponent digits", "1e"),
        ("exponent sign only", "1e+"),
        ("lone minus", "-"),
        ("hexadecimal", "0x10"),
        ("NaN", "NaN"),
        ("Infinity", "Infinity"),
        ("single quotes", "'a'"),
        ("unquoted key", "{a:1}"),
        ("number key", "{1:1}"),
        ("missing colon", "{\"a\" 1}"),
        ("missing value", "{\"a\":}"),
        ("missing comma", "[1 2]"),
        ("unterminated string", "\"abc"),
        ("unterminated string after escape", "\"abc\\"),
        ("unterminated escaped string", "\"a\\nbc"),
        ("unterminated object", "{\"a\":1"),
        ("unterminated array", "[1"),
        ("unterminated nested", "[{\"a\":[1]"),
        ("bad escape \\x", "\"a\\x41\""),
        ("bad escape \\a", "\"\\a\""),
        ("bad escape \\'", "\"\\'\""),
        ("escaped newline", "\"a\\\nb\""),
        ("short \\u", "\"\\u12\""),
        ("\\u with a non-hex digit", "\"\\u12G4\""),
        ("\\u at the end", "\"\\u"),
        ("raw NUL in a string", "\"a\u{0}b\""),
        ("raw tab in a string", "\"a\tb\""),
        ("raw newline in a string", "\"a\nb\""),
        ("raw U+001F in a string", "\"a\u{1F}b\""),
        ("truncated true", "tru"),
        ("truncated null", "nul"),
        ("capital True", "True"),
        ("comment", "// note\n{}"),
        ("block comment", "{/* x */}"),
        ("empty", ""),
        ("only whitespace", " \n\t "),
        ("vertical tab as whitespace", "\u{0B}{}"),
        ("form feed as whitespace", "\u{0C}{}"),
        ("no-break space as whitespace", "\u{A0}{}"),
        ("NUL after the value", "{}\u{0}"),
        ("lone closing brace", "}"),
        ("mismatched brackets", "[}"),
    ])
    func invalid(label: String, text: String) {
        #expect(errorKind(text) == .syntax, "\(label)")
    }

    /// The error says where: a byte offset inside the input.
    @Test func errorOffset() {
        guard case .failure(let error) = readJSON("{\"a\":1}x") else { Issue.record("accepted"); return }
        #expect(error.offset == 7)
        #expect(error.detail.contains("byte 8"))
    }

    @Test func byteOrderMark() {
        guard case .failure(let error) = readJSON([0xEF, 0xBB, 0xBF] + Array("{}".utf8)) else { Issue.record("accepted"); return }
        #expect(error.kind == .syntax)
        #expect(error.detail.contains("byte order mark"))
        // A BOM-like character inside a string is just a character.
        #expect(canonicalText("\"\u{FEFF}\"") == "\"\u{FEFF}\"")
    }

    @Test func numbersKeepTheirLiteral() throws {
        guard case .success(.array(let numbers)) = readJSON("[123456789012345678901234567890, 1e400, -0.0, 1.50]") else {
            Issue.record("not read"); return
        }
        let literals = numbers.map { if case .number(let number) = $0 { number.literal } else { "" } }
        #expect(literals == ["123456789012345678901234567890", "1e400", "-0.0", "1.50"])
        let int64s: [Int64?] = numbers.map { value -> Int64? in if case .number(let number) = value { number.int64 } else { nil } }
        #expect(int64s == [nil, nil, nil, nil])
    }

    /// Huge or fractional numbers are JSON, so they read; a message holding one
    /// is then refused by validation (bad-value), not by the reader (json).
    @Test(arguments: ["123456789012345678901234567890", "1e400", "1.5", "-9223372036854775809", "1E2"])
    func hugeNumbersParseButFailValidation(literal: String) {
        #expect(errorKind(literal) == nil)
        let text = "{\"v\":1,\"origin\":\"a\",\"seq\":1,\"sent_at\":\"2020-08-24T09:30:00+03:00\",\"type\":\"strike.reported\","
            + "\"data\":{\"workplace\":\"a\",\"status\":\"strike\",\"participants\":\(literal)}}"
        let reading = read(text)
        #expect(reading.rejection?.code == .badValue)
        #expect(reading.rejection?.detail.contains("data.participants") == true)
        // It was read as JSON, so it is identified by its value.
        if case .value = reading.identity {} else { Issue.record("identified by bytes") }
    }
}

@Suite struct DuplicateKeys {
    @Test(arguments: [
        ("same key", "{\"a\":1,\"a\":2}"),
        ("same key, same value", "{\"a\":1,\"a\":1}"),
        ("escaped spelling", "{\"a\":1,\"\\u0061\":2}"),
        ("escaped spelling first", "{\"\\u0061\":1,\"a\":2}"),
        ("raw and escaped é", "{\"é\":1,\"\\u00e9\":2}"),
        ("escaped slash", "{\"a/b\":1,\"a\\/b\":2}"),
        ("surrogate pair and raw", "{\"😀\":1,\"\\ud83d\\ude00\":2}"),
        ("not adjacent", "{\"a\":1,\"b\":2,\"a\":3}"),
        ("nested", "{\"x\":{\"a\":1,\"a\":1}}"),
        ("in an array", "[{\"a\":1},{\"b\":1,\"b\":2}]"),
        ("empty key twice", "{\"\":1,\"\":2}"),
    ])
    func duplicate(label: String, text: String) {
        #expect(errorKind(text) == .duplicateKey, "\(label)")
    }

    @Test(arguments: [
        // NFC é (U+00E9) and NFD é (e + U+0301) are canonically equivalent but
        // different scalars: different keys, as in every other JSON reader.
        ("NFC and NFD", "{\"\u{E9}\":1,\"e\u{301}\":2}"),
        ("NFC and escaped NFD", "{\"\\u00e9\":1,\"e\\u0301\":2}"),
        ("Kelvin sign and K", "{\"K\":1,\"\u{212A}\":2}"),
        ("case differs", "{\"a\":1,\"A\":2}"),
        ("trailing space", "{\"a\":1,\"a \":2}"),
    ])
    func notDuplicate(label: String, text: String) throws {
        guard case .success(.object(let object)) = readJSON(text) else { Issue.record("\(label): rejected"); return }
        // Both keys survive, distinct, into the canonical form.
        #expect(object.members.count == 2)
        #expect(Array(object.members[0].key.utf8) != Array(object.members[1].key.utf8))
    }

    @Test(arguments: ["{\"a\":{\"a\":1}}", "[{\"a\":1},{\"a\":1}]", "{\"a\":[{\"a\":1}],\"b\":{\"a\":2}}"])
    func sameKeyElsewhere(text: String) {
        #expect(errorKind(text) == nil)
    }

    /// Past 16 members the reader looks duplicates up in a set instead of
    /// comparing with every key so far: both ways must find them, wherever
    /// the second key falls, in either spelling.
    @Test(arguments: [2, 15, 16, 17, 18, 40, 300])
    func duplicateAmongManyMembers(members: Int) {
        let keys = (0..<members).map { "k\($0)" }
        let object = "{" + keys.map { "\"\($0)\":1" }.joined(separator: ",")
        #expect(errorKind(object + "}") == nil, "\(members) distinct members")
        for repeated in Set([0, members / 2, members - 1]) {
            #expect(errorKind(object + ",\"k\(repeated)\":2}") == .duplicateKey, "k\(repeated) again after \(members)")
            let escaped = "\\u006b" + "\(repeated)"
            #expect(errorKind(object + ",\"\(escaped)\":2}") == .duplicateKey, "escaped k\(repeated) after \(members)")
        }
    }

    @Test func detailNamesTheKey() {
        guard case .failure(let error) = readJSON("{\"status\":1,\"status\":2}") else { Issue.record("accepted"); return }
        #expect(error.detail.contains("\"status\""))
        #expect(error.offset == 12)
    }
}

@Suite struct Surrogates {
    @Test(arguments: [
        ("high alone", "\"\\ud800\""),
        ("high at the end of the input", "\"\\ud83d"),
        ("low alone", "\"\\udc00\""),
        ("reversed pair", "\"\\ude00\\ud83d\""),
        ("high then a character", "\"\\ud83dx\""),
        ("high then a BMP escape", "\"\\ud83d\\u0041\""),
        ("two highs", "\"\\ud83d\\ud83d\""),
        ("high then a raw low-looking char", "\"\\ud83d\u{E000}\""),
        ("low then high then low", "\"\\udc00\\ud83d\\ude00\""),
        ("in a key", "{\"\\udfff\":1}"),
        ("upper-case hex", "\"\\uDBFF\""),
    ])
    func lone(label: String, text: String) {
        #expect(errorKind(text) == .loneSurrogate, "\(label)")
    }

    @Test(arguments: [
        ("\"\\ud83d\\ude00\"", "😀"),
        ("\"\\ud800\\udc00\"", "\u{10000}"),
        ("\"\\udbff\\udfff\"", "\u{10FFFF}"),
        ("\"a\\ud83d\\ude00b\\ud83d\\ude00\"", "a😀b😀"),
    ])
    func validPair(text: String, expected: String) {
        guard case .success(.string(let string)) = readJSON(text) else { Issue.record("not read"); return }
        #expect(string.unicodeScalars.elementsEqual(expected.unicodeScalars))
    }

    @Test func surrogateReasonCode() {
        #expect(read("{\"v\":1,\"note\":\"\\udc00\"}").rejection?.code == .surrogate)
    }
}

@Suite struct InvalidUTF8 {
    @Test(arguments: [
        ("overlong slash, 2 bytes", [0xC0, 0xAF] as [UInt8]),
        ("overlong, C1 lead", [0xC1, 0xBF]),
        ("overlong slash, 3 bytes", [0xE0, 0x80, 0xAF]),
        ("overlong slash, 4 bytes", [0xF0, 0x80, 0x80, 0xAF]),
        ("UTF-16 high surrogate encoded", [0xED, 0xA0, 0x80]),
        ("UTF-16 low surrogate encoded", [0xED, 0xBF, 0xBF]),
        ("CESU-8 pair", [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]),
        ("truncated 2-byte", [0xC3]),
        ("truncated 3-byte", [0xE2, 0x82]),
        ("truncated 4-byte", [0xF0, 0x9F, 0x98]),
        ("U+110000", [0xF4, 0x90, 0x80, 0x80]),
        ("F5 lead", [0xF5, 0x80, 0x80, 0x80]),
        ("lone continuation", [0x80]),
        ("FE", [0xFE]),
        ("FF", [0xFF]),
        ("Latin-1 é", [0xE9]),
        ("continuation missing mid-string", [0xE2, 0x41, 0x41]),
    ])
    func rejected(label: String, bad: [UInt8]) {
        // Inside a string, so that only the encoding is wrong.
        let prefix = Array("{\"note\":\"".utf8)
        let bytes = prefix + bad + Array("\"}".utf8)
        guard case .failure(let error) = readJSON(bytes) else { Issue.record("\(label): accepted"); return }
        #expect(error.kind == .utf8, "\(label)")
        #expect(error.offset == prefix.count, "\(label)")
        #expect(MessageReader.read(bytes, policy: testPolicy).rejection?.code == .utf8)
    }

    /// Checked before syntax: bad bytes outside any string are still `utf8`,
    /// including after a long ASCII run (the eight-byte fast path).
    @Test func outsideStringsAndAfterLongRuns() {
        #expect(errorKind([0xFF] + Array("{}".utf8)) == .utf8)
        let long = Array("{\"note\":\"".utf8) + Array(repeating: UInt8(ascii: "a"), count: 37) + [0xC0, 0x80] + Array("\"}".utf8)
        guard case .failure(let error) = readJSON(long) else { Issue.record("accepted"); return }
        #expect(error.kind == .utf8)
        #expect(error.offset == 9 + 37)
    }

    @Test(arguments: [
        ("U+0080", [0xC2, 0x80] as [UInt8]),
        ("U+07FF", [0xDF, 0xBF]),
        ("U+0800", [0xE0, 0xA0, 0x80]),
        ("U+D7FF", [0xED, 0x9F, 0xBF]),
        ("U+E000", [0xEE, 0x80, 0x80]),
        ("U+FFFF", [0xEF, 0xBF, 0xBF]),
        ("U+10000", [0xF0, 0x90, 0x80, 0x80]),
        ("U+10FFFF", [0xF4, 0x8F, 0xBF, 0xBF]),
    ])
    func boundariesAccepted(label: String, good: [UInt8]) {
        #expect(errorKind(Array("\"".utf8) + good + Array("\"".utf8)) == nil, "\(label)")
    }
}

@Suite struct Depth {
    func arrays(_ depth: Int) -> String { repeated("[", depth) + repeated("]", depth) }
    func objects(_ depth: Int) -> String { repeated("{\"a\":", depth - 1) + "{}" + repeated("}", depth - 1) }

    @Test func limitIs64() {
        #expect(JSONReader.maximumDepth == 64)
    }

    @Test func arrays64AcceptedAnd65Rejected() {
        #expect(errorKind(arrays(64)) == nil)
        #expect(errorKind(arrays(65)) == .syntax)
        guard case .failure(let error) = readJSON(arrays(65)) else { return }
        #expect(error.detail.contains("64"))
    }

    @Test func objects64AcceptedAnd65Rejected() {
        #expect(errorKind(objects(64)) == nil)
        #expect(errorKind(objects(65)) == .syntax)
    }

    @Test func mixed() {
        let mixed64 = repeated("[{\"a\":", 32) + "0" + repeated("}]", 32)
        let mixed65 = "[" + mixed64 + "]"
        #expect(errorKind(mixed64) == nil)
        #expect(errorKind(mixed65) == .syntax)
    }

    /// Depth returns on the way out: many shallow siblings are fine.
    @Test func siblingsDoNotAccumulate() {
        #expect(errorKind("[" + Array(repeating: arrays(63), count: 100).joined(separator: ",") + "]") == nil)
    }

    /// Very deep input is refused without exhausting the stack.
    @Test func veryDeep() {
        #expect(errorKind(repeated("[", 100_000)) == .syntax)
    }

    /// In a message: the message is level 1, `data` level 2, so an unknown data
    /// field may nest 62 more levels.
    @Test func inAMessage() {
        func message(extraDepth: Int) -> String {
            "{\"v\":1,\"origin\":\"a\",\"seq\":1,\"sent_at\":\"2020-08-24T09:30:00+03:00\",\"type\":\"strike.reported\","
                + "\"data\":{\"workplace\":\"a\",\"status\":\"strike\",\"extra\":\(arrays(extraDepth))}}"
        }
        #expect(read(message(extraDepth: 62)).message != nil)
        #expect(read(message(extraDepth: 63)).rejection?.code == .json)
    }
}
