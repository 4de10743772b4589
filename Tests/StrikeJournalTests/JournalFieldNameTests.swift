import Testing

@testable import StrikeJournal

@Suite struct JournalFieldNameTests {
    @Test(arguments: [
        ("origin", "STRIKECD_ORIGIN"),
        ("ORIGIN", "STRIKECD_ORIGIN"),
        ("peer_uid", "STRIKECD_PEER_UID"),
        ("request.id", "STRIKECD_REQUEST_ID"),
        ("also-bad", "STRIKECD_ALSO_BAD"),
        ("_private", "STRIKECD__PRIVATE"),
        ("9digit", "STRIKECD_9DIGIT"),
        ("with space", "STRIKECD_WITH_SPACE"),
        ("", "STRIKECD_"),
        ("é", "STRIKECD__"),
        ("e\u{301}", "STRIKECD_E_"),  // decomposed: one "_" per scalar
        ("a=b", "STRIKECD_A_B"),
        ("x\ny", "STRIKECD_X_Y"),
        ("🙂", "STRIKECD__"),
    ])
    func sanitises(key: String, expected: String) {
        let name = JournalFieldName.name(forMetadataKey: key)
        #expect(name == expected)
        #expect(JournalFieldName.isValid(name))
    }

    @Test(arguments: [55, 56, 80, 500])
    func longKeysAreCutTo64AndStayApart(length: Int) {
        let a = String(repeating: "k", count: length) + "a"
        let b = String(repeating: "k", count: length) + "b"
        let nameA = JournalFieldName.name(forMetadataKey: a)
        let nameB = JournalFieldName.name(forMetadataKey: b)
        #expect(nameA.utf8.count <= 64)
        #expect(JournalFieldName.isValid(nameA))
        #expect(JournalFieldName.isValid(nameB))
        #expect(nameA != nameB)
    }

    @Test func exactly64IsKeptAsIs() {
        let key = String(repeating: "k", count: 64 - JournalFieldName.prefix.utf8.count)
        #expect(JournalFieldName.name(forMetadataKey: key) == "STRIKECD_" + key.uppercased())
    }

    @Test(arguments: [
        ("MESSAGE", true), ("STRIKECD_X", true), ("A", true), ("A9_", true),
        ("", false), ("_PRIVATE", false), ("9DIGIT", false), ("lower", false),
        ("ALSO-BAD", false), ("REQUEST.ID", false), (String(repeating: "A", count: 65), false),
        (String(repeating: "A", count: 64), true),
    ])
    func validity(name: String, valid: Bool) {
        #expect(JournalFieldName.isValid(name) == valid)
    }

    @Test func collidingKeysGetDistinctNamesDeterministically() {
        let keys = ["a.b", "a-b", "a_b", "A_B", "a_b_2"]
        let names = JournalFieldName.names(forMetadataKeys: keys)
        #expect(Set(names.values).count == keys.count, "two keys share a field: \(names)")
        #expect(names.values.allSatisfy(JournalFieldName.isValid))
        // Sorted order: "A_B", "a-b", "a.b", "a_b", "a_b_2".
        #expect(names["A_B"] == "STRIKECD_A_B")
        #expect(names["a-b"] == "STRIKECD_A_B_2")
        #expect(names["a.b"] == "STRIKECD_A_B_3")
        #expect(names["a_b"] == "STRIKECD_A_B_4")
        #expect(names["a_b_2"] == "STRIKECD_A_B_2_2")
        #expect(JournalFieldName.names(forMetadataKeys: keys.reversed()) == names)
    }

    @Test func collisionSuffixStaysWithin64() {
        let long = String(repeating: "k", count: 100)
        let keys = (1...12).map { long + String(repeating: ".", count: $0) + "x" }
            + (1...12).map { long + String(repeating: "-", count: $0) + "x" }
        let names = JournalFieldName.names(forMetadataKeys: keys)
        #expect(Set(names.values).count == keys.count)
        #expect(names.values.allSatisfy { $0.utf8.count <= 64 && JournalFieldName.isValid($0) })
    }
}
