import StrikeCore
import Testing

/// Federation's control lines: read strictly, written so that they read back.
@Suite struct ControlLineTests {
    @Test(arguments: [
        ControlLine.batch(node: "minsk"),
        .copy(Array("{\"v\":1,\n \"origin\":\"mtz\"}\r\n".utf8)),
        .copy([]),
        .have(node: "minsk", to: "gomel", ranges: ["mtz": [1...41, 45...47], "azot": [Int64.max...Int64.max]], want: ["mtz": [42...44]], full: true),
        .have(node: "minsk", to: nil, ranges: [:], want: [:], full: false),
        .cannot(node: "gomel", to: "minsk", ranges: ["mtz": [42...44]]),
    ])
    func roundTrip(_ line: ControlLine) {
        #expect(ControlLine.isControl(line.bytes))
        #expect(!line.bytes.contains(0x0A) && !line.bytes.contains(0x0D))
        #expect(ControlLine.read(line.bytes) == line)
    }

    /// Anything else with the prefix is not a control line (the spool then
    /// judges it as a copy, and rejects it as junk).
    @Test(arguments: [
        #"{"strikecd":"have","v":2,"node":"minsk","ranges":{},"want":{}}"#,  // another version
        #"{"strikecd":"have","v":1,"node":"Minsk","ranges":{},"want":{}}"#,  // not a slug
        #"{"strikecd":"have","v":1,"node":"minsk","ranges":{"mtz":[[0,3]]},"want":{}}"#,  // seq 0
        #"{"strikecd":"have","v":1,"node":"minsk","ranges":{"mtz":[[5,3]]},"want":{}}"#,  // reversed
        #"{"strikecd":"have","v":1,"node":"minsk","ranges":{"mtz":[[1,9223372036854775808]]},"want":{}}"#,  // beyond 64 bits
        #"{"strikecd":"have","v":1,"node":"minsk","ranges":{"mtz":[[1,2,3]]},"want":{}}"#,
        #"{"strikecd":"have","v":1,"node":"minsk","ranges":{},"want":{},"extra":1}"#,  // unknown member
        #"{"strikecd":"have","v":1,"node":"minsk","ranges":{},"want":{},"full":"yes"}"#,
        #"{"strikecd":"have","v":1,"node":"minsk","ranges":{},"ranges":{},"want":{}}"#,  // duplicate key
        #"{"strikecd":"copy","v":1,"base64":"not base64!"}"#,
        #"{"strikecd":"copy","v":1,"base64":"QQ="}"#,
        #"{"strikecd":"gossip","v":1}"#,
        #"{"strikecd":"batch","v":1,"node":"minsk"} trailing"#,
    ])
    func malformedLinesAreNotControl(_ text: String) {
        #expect(ControlLine.isControl(Array(text.utf8)))
        #expect(ControlLine.read(Array(text.utf8)) == nil)
    }

    @Test func aMessageIsNeverControl() {
        #expect(!ControlLine.isControl(Array(#"{"v":1,"strikecd":"have"}"#.utf8)))
        #expect(!ControlLine.isControl(Array(#" {"strikecd":"have"}"#.utf8)))
    }

    @Test func rangeArithmetic() {
        #expect(SeqRangeSet.normalised([5...7, 1...2, 3...3, 9...9]) == [1...3, 5...7, 9...9])
        #expect(SeqRangeSet.subtracting([1...10], [3...4, 8...20]) == [1...2, 5...7])
        #expect(SeqRangeSet.subtracting([1...10], []) == [1...10])
        #expect(SeqRangeSet.subtracting([1...10], [1...10]) == [])
        #expect(SeqRangeSet.subtracting([Int64.max - 1...Int64.max], [1...5]) == [Int64.max - 1...Int64.max])
        #expect(SeqRangeSet.intersecting([1...10, 20...30], [5...25]) == [5...10, 20...25])
        #expect(SeqRangeSet.count([1...Int64.max]) == Int64.max)
        #expect(SeqRangeSet.count([1...3, 5...5]) == 4)
    }
}
