import PropertyBased
import StrikeCore
import Testing

// The canonical form (docs/messages.md, "Canonical form"): what identifies a
// copy and what a signature will cover. Another implementation must produce
// the same bytes, so the vectors here are quoted verbatim in the docs.

/// One spec vector: JSON text in, exact canonical text out.
struct Vector: Sendable, CustomTestStringConvertible {
    let name: String
    let input: String
    let canonical: String
    var testDescription: String { name }
}

/// The worked example of docs/messages.md.
let workedExample = Vector(
    name: "worked example",
    input: """
    {
      "v": 1,
      "type": "delegate.status",
      "origin": "tractor-works",
      "seq": 7,
      "sent_at": "2020-08-24T09:30:00+03:00",
      "data": {
        "status": "detained",
        "note": "Taken at the gate after the night shift \\u2014 \\"for questioning\\".\\nAssembly at 18:00 in hall 2\\/3.",
        "delegate": "rook"
      }
    }
    """,
    canonical: #"{"data":{"delegate":"rook","note":"Taken at the gate after the night shift — \"for questioning\".\nAssembly at 18:00 in hall 2/3.","status":"detained"},"origin":"tractor-works","sent_at":"2020-08-24T09:30:00+03:00","seq":7,"type":"delegate.status","v":1}"#
)

/// Further vectors, each quoted in docs/messages.md.
let vectors: [Vector] = [
    Vector(
        name: "keys sorted by UTF-8 bytes",
        input: #"{"😀": 1, "ｚ": 2, "é": 3, "a": 4, "Z": 5, "9": 6, "10": 7}"#,
        canonical: #"{"10":7,"9":6,"Z":5,"a":4,"é":3,"ｚ":2,"😀":1}"#
    ),
    Vector(
        name: "string escapes",
        input: #"["\u0022\u005c\/", "\u0008\u000c\u000a\u000d\u0009", "\u0001\u001F", "\u00e9\u20ac\ud83d\ude00"]"#,
        canonical: #"["\"\\/","\b\f\n\r\t","\u0001\u001f","é€😀"]"#
    ),
    Vector(
        name: "whitespace, literals and integers",
        input: " { \"b\" : [ true , false , null , -0 , 0 , 17 , -9223372036854775808 ] ,\r\n\t\"a\" : { } } ",
        canonical: #"{"a":{},"b":[true,false,null,0,0,17,-9223372036854775808]}"#
    ),
]

func canonical(_ text: String) -> String? { canonicalText(text) }

@Suite struct CanonicalForm {
    @Test(arguments: [workedExample] + vectors)
    func vector(_ vector: Vector) {
        #expect(canonical(vector.input) == vector.canonical)
        // The canonical form is a fixed point.
        #expect(canonical(vector.canonical) == vector.canonical)
    }

    @Test func workedExampleIsAValidMessage() throws {
        let message = try valid(workedExample.input)
        #expect(message.canonical == Array(workedExample.canonical.utf8))
        #expect(read(workedExample.input).identity == .value(Array(workedExample.canonical.utf8)))
        // The em dash is three bytes, E2 80 94, written as itself.
        #expect(message.canonical.count == 256)
        let dash = try #require(message.canonical.firstIndex(of: 0xE2))
        #expect(Array(message.canonical[(dash - 6)..<(dash + 9)]) == [0x73, 0x68, 0x69, 0x66, 0x74, 0x20, 0xE2, 0x80, 0x94, 0x20, 0x5C, 0x22, 0x66, 0x6F, 0x72])
        #expect(message.canonical.starts(with: Array(#"{"data":{"delegate":"rook","note":"Taken"#.utf8)))
    }

    /// docs/messages.md quotes the vectors verbatim; a change on either side fails here.
    @Test func docsQuoteTheVectors() throws {
        let docs = try RepositoryFiles.text("docs/messages.md")
        #expect(RepositoryFiles.codeBlock(after: "<!-- worked-example:input -->", in: docs) == workedExample.input)
        #expect(RepositoryFiles.codeBlock(after: "<!-- worked-example:canonical -->", in: docs) == workedExample.canonical)
        for vector in vectors {
            #expect(docs.contains(vector.canonical), "docs/messages.md lacks the canonical form of \(vector.name)")
        }
        for vector in vectors.dropLast() {
            #expect(docs.contains(vector.input), "docs/messages.md lacks the input of \(vector.name)")
        }
    }

    /// docs/messages.md lists every reason code.
    @Test func docsListEveryReasonCode() throws {
        let docs = try RepositoryFiles.text("docs/messages.md")
        for code in ReasonCode.allCases {
            #expect(docs.contains("| `\(code.rawValue)` |"), "docs/messages.md lacks a row for \(code.rawValue)")
        }
    }
}

// MARK: - Same value, same bytes

let sameMessageSpellings: [(String, String)] = [
    ("compact", #"{"v":1,"origin":"tractor-works","seq":3,"sent_at":"2020-08-19T18:00:00+03:00","type":"delegate.status","data":{"delegate":"rook","status":"active","note":"Café 2/3 A"}}"#),
    ("pretty", """
    {
      "v": 1,
      "origin": "tractor-works",
      "seq": 3,
      "sent_at": "2020-08-19T18:00:00+03:00",
      "type": "delegate.status",
      "data": {
        "delegate": "rook",
        "status": "active",
        "note": "Café 2/3 A"
      }
    }
    """),
    ("keys reversed", #"{"data":{"note":"Café 2/3 A","status":"active","delegate":"rook"},"type":"delegate.status","sent_at":"2020-08-19T18:00:00+03:00","seq":3,"origin":"tractor-works","v":1}"#),
    ("tabs and CRLF", "{\t\"v\"\t:\t1,\r\n\"origin\":\"tractor-works\",\r\n\"seq\":3,\"sent_at\":\"2020-08-19T18:00:00+03:00\",\r\n\"type\":\"delegate.status\",\"data\":{\"delegate\":\"rook\",\"status\":\"active\",\"note\":\"Café 2/3 A\"}\r\n}\r\n"),
    ("é escaped", #"{"v":1,"origin":"tractor-works","seq":3,"sent_at":"2020-08-19T18:00:00+03:00","type":"delegate.status","data":{"delegate":"rook","status":"active","note":"Caf\u00e9 2/3 A"}}"#),
    ("é escaped upper-case", #"{"v":1,"origin":"tractor-works","seq":3,"sent_at":"2020-08-19T18:00:00+03:00","type":"delegate.status","data":{"delegate":"rook","status":"active","note":"Caf\u00E9 2/3 A"}}"#),
    ("slash escaped", #"{"v":1,"origin":"tractor-works","seq":3,"sent_at":"2020-08-19T18:00:00+03:00","type":"delegate.status","data":{"delegate":"rook","status":"active","note":"Café 2\/3 A"}}"#),
    ("ASCII escaped", #"{"v":1,"origin":"tractor-works","seq":3,"sent_at":"2020-08-19T18:00:00+03:00","type":"delegate.status","data":{"delegate":"\u0072ook","status":"active","note":"Café 2/3 \u0041"}}"#),
    ("key escaped", #"{"\u0076":1,"origin":"tractor-works","seq":3,"sent_at":"2020-08-19T18:00:00+03:00","type":"delegate.status","data":{"delegate":"rook","status":"active","note":"Café 2/3 A"}}"#),
    ("extra spaces", #"{"v":1,   "origin":"tractor-works","seq":3,"sent_at":"2020-08-19T18:00:00+03:00","type":"delegate.status","data":{"delegate":"rook","status":"active","note":"Café 2/3 A"}}    "#),
]

let expectedSameCanonical = #"{"data":{"delegate":"rook","note":"Café 2/3 A","status":"active"},"origin":"tractor-works","sent_at":"2020-08-19T18:00:00+03:00","seq":3,"type":"delegate.status","v":1}"#

@Suite struct Reformatting {
    @Test(arguments: sameMessageSpellings)
    func sameCanonicalBytes(label: String, text: String) throws {
        let message = try valid(text)
        #expect(String(decoding: message.canonical, as: UTF8.self) == expectedSameCanonical, "\(label)")
        #expect(read(text).identity == .value(Array(expectedSameCanonical.utf8)))
    }

    @Test func minusZeroIsZero() {
        #expect(canonical(#"{"n":-0}"#) == canonical(#"{"n":0}"#))
        #expect(canonical(#"{"n":-0}"#) == #"{"n":0}"#)
    }
}

// MARK: - Different values, different bytes

let differentPairs: [(String, String, String)] = [
    ("seq", #"{"seq":1}"#, #"{"seq":2}"#),
    ("NFC vs NFD", "{\"note\":\"\u{E9}\"}", "{\"note\":\"e\u{301}\"}"),
    ("NFC vs NFD key", "{\"\u{E9}\":1}", "{\"e\u{301}\":1}"),
    ("key case", #"{"a":1}"#, #"{"A":1}"#),
    ("number vs string", #"{"a":1}"#, #"{"a":"1"}"#),
    ("boolean vs string", #"{"a":true}"#, #"{"a":"true"}"#),
    ("null vs absent", #"{"a":1,"b":null}"#, #"{"a":1}"#),
    ("null vs empty string", #"{"a":null}"#, #"{"a":""}"#),
    ("array order", #"{"a":["x","y"]}"#, #"{"a":["y","x"]}"#),
    ("trailing space in a string", #"{"a":"x"}"#, #"{"a":"x "}"#),
    ("same instant, other offset", #"{"t":"2020-08-24T09:30:00+03:00"}"#, #"{"t":"2020-08-24T06:30:00Z"}"#),
    ("integer vs fraction", #"{"seq":1}"#, #"{"seq":1.0}"#),
    ("integer vs exponent", #"{"seq":1}"#, #"{"seq":1e0}"#),
    ("zero vs negative zero fraction", #"{"n":0}"#, #"{"n":-0.0}"#),
    ("fraction spellings", #"{"n":1.0}"#, #"{"n":1.00}"#),
    ("nested", #"{"a":{"b":{"c":1}}}"#, #"{"a":{"b":{"c":2}}}"#),
    ("empty object vs empty array", #"{"a":{}}"#, #"{"a":[]}"#),
    ("with sig", #"{"v":1}"#, #"{"v":1,"sig":"x"}"#),
]

@Suite struct DifferentValues {
    @Test(arguments: differentPairs)
    func differentBytes(label: String, first: String, second: String) throws {
        let a = try #require(canonical(first))
        let b = try #require(canonical(second))
        // Bytes, not Swift strings: String's == treats NFC and NFD as equal.
        #expect(Array(a.utf8) != Array(b.utf8), "\(label)")
    }

    /// The reason for keeping non-integers as written: a valid copy and an
    /// invalid copy must never share an identity, or arrival order would
    /// decide which one counts.
    @Test func invalidNumberNeverSharesIdentityWithValid() {
        let good = message("strike.reported", ["workplace": "tractor-works", "status": "strike", "participants": 7])
        #expect(read(good).message != nil)
        for literal in ["7.0", "7e0", "70e-1", "0.7e1", "7.000", "7E+0"] {
            let bad = good.replacing("\"participants\":7", with: "\"participants\":\(literal)")
            let badReading = read(bad)
            #expect(badReading.rejection?.code == .badValue, "\(literal)")
            #expect(badReading.identity != read(good).identity, "\(literal)")
        }
    }
}

// MARK: - Round trip

/// A scalar from a random number: a quarter ASCII (controls, quotes and
/// backslashes included), a quarter from a list of awkward ones, the rest from
/// the whole range (surrogate code points become U+FFFD).
func scalar(from seed: UInt32) -> Unicode.Scalar {
    let awkward: [Unicode.Scalar] = ["\"", "\\", "/", "\u{0}", "\u{1F}", "\u{7F}", "\u{85}", "\u{2028}", "\u{FEFF}", "\u{E9}", "\u{301}", "\u{FFFF}", "\u{10FFFF}", "\u{1F600}"]
    switch seed % 4 {
    case 0: return Unicode.Scalar(UInt8((seed >> 2) % 128))
    case 1: return awkward[Int((seed >> 2) % UInt32(awkward.count))]
    default: return Unicode.Scalar((seed >> 2) % 0x110000) ?? "\u{FFFD}"
    }
}

func string(from seeds: [UInt32]) -> String {
    var text = ""
    for seed in seeds { text.unicodeScalars.append(scalar(from: seed)) }
    return text
}

@Suite struct RoundTrip {
    /// Every spelling above, every vector and every full message re-reads to
    /// the same canonical bytes.
    @Test func knownInputs() throws {
        var inputs = sameMessageSpellings.map(\.1) + vectors.map(\.input) + [workedExample.input]
        inputs += typeSpecs.map { JSONWriter.string($0.message(data: $0.full), style: .pretty) }
        for input in inputs {
            let once = try #require(canonical(input))
            #expect(canonical(once) == once)
            // Compact and pretty output also read back to the same value.
            guard case .success(let value) = readJSON(input) else { continue }
            #expect(canonical(JSONWriter.string(value, style: .compact)) == once)
            #expect(canonical(JSONWriter.string(value, style: .pretty)) == once)
        }
    }

    @Test func randomStrings() async {
        await propertyCheck(count: 500, input: Gen<UInt32>.value(in: 0...UInt32.max).array(of: 0...40)) { seeds in
            let text = string(from: seeds)
            let bytes = JSONWriter.bytes(.string(text))
            guard case .success(.string(let back)) = readJSON(bytes) else {
                Issue.record("canonical string did not re-read: \(Array(text.unicodeScalars))"); return
            }
            #expect(back.unicodeScalars.elementsEqual(text.unicodeScalars))
            #expect(JSONWriter.bytes(.string(back)) == bytes)
            // Nothing but the escapes of the rules: no raw C0 control bytes.
            #expect(!bytes.contains { $0 < 0x20 })
        }
    }

    @Test func randomObjects() async {
        let key = Gen<UInt32>.value(in: 0...UInt32.max).array(of: 0...6)
        let member = zip(key, Gen<Int64>.value())
        await propertyCheck(count: 300, input: member.array(of: 0...8)) { members in
            var seen = Set<[UInt8]>()
            var object = JSONObject()
            for (seeds, number) in members {
                let name = string(from: seeds)
                if seen.insert(Array(name.utf8)).inserted { object.members.append((key: name, value: .number(JSONNumber(number)))) }
            }
            let bytes = JSONWriter.bytes(.object(object))
            guard case .success(let back) = readJSON(bytes) else { Issue.record("did not re-read"); return }
            #expect(JSONWriter.bytes(back) == bytes)
            // The same members in another order give the same bytes.
            let reversed = JSONObject(object.members.reversed())
            #expect(JSONWriter.bytes(.object(reversed)) == bytes)
            // And keys come out in UTF-8 byte order.
            if case .object(let read) = back {
                let keys = read.members.map { Array($0.key.utf8) }
                #expect(keys == keys.sorted { $0.lexicographicallyPrecedes($1) })
            }
        }
    }
}
