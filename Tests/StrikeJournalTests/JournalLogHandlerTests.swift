import Logging
import Testing

@testable import StrikeJournal

/// The entry a JournalLogHandler builds, without a journal.
@Suite struct JournalLogHandlerTests {
    private func fields(
        level: Logger.Level = .info,
        metadata: Logger.Metadata,
        error: (any Error)? = nil
    ) -> [(name: String, value: String)] {
        JournalLogHandler.fields(
            level: level, message: "m", metadata: metadata, error: error,
            identifier: "strikecd", file: "Mod/File.swift", function: "f()", line: 42
        )
    }

    @Test func fixedFieldsComeFirstThenMetadataSorted() {
        let result = fields(metadata: JournalEvent.gap.metadata(["origin": "mtz", "seq": "4"]))
        #expect(result.map(\.name) == [
            "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "MESSAGE_ID", "CODE_FILE", "CODE_LINE", "CODE_FUNC",
            "STRIKECD_EVENT", "STRIKECD_ORIGIN", "STRIKECD_SEQ",
        ])
        #expect(result.map(\.value) == [
            "m", "6", "strikecd", JournalEvent.gap.messageID, "Mod/File.swift", "42", "f()", "gap", "mtz", "4",
        ])
    }

    @Test func everyFieldNameIsValid() {
        let result = fields(metadata: ["request.id": "1", "_x": "2", "9": "3", "": "4"], error: CancellationError())
        #expect(result.allSatisfy { JournalFieldName.isValid($0.name) })
        #expect(result.filter { $0.name.hasPrefix("STRIKECD_") }.count == 5)
    }

    @Test func unknownOrNonStringEventGetsNoMessageID() {
        #expect(!fields(metadata: ["event": "nope"]).contains { $0.name == "MESSAGE_ID" })
        #expect(!fields(metadata: ["event": ["gap"]]).contains { $0.name == "MESSAGE_ID" })
        #expect(!fields(metadata: [:]).contains { $0.name == "MESSAGE_ID" })
    }

    @Test func handlerMetadataProviderAndEventMergeInOrder() {
        let provider = Logger.MetadataProvider { ["from": "provider", "provided": "yes"] }
        var handler = JournalLogHandler(label: "t", metadataProvider: provider)
        handler[metadataKey: "from"] = "handler"
        handler[metadataKey: "handler_only"] = "yes"
        let merged = MetadataText.merged(
            handler: handler.metadata, provider: handler.metadataProvider, event: ["from": "event"]
        )
        #expect(merged == ["from": "event", "provided": "yes", "handler_only": "yes"])
        let withoutEvent = MetadataText.merged(handler: handler.metadata, provider: provider, event: nil)
        #expect(withoutEvent["from"] == "provider")
    }

    @Test func valueSemantics() {
        var a = JournalLogHandler(label: "a")
        a[metadataKey: "k"] = "1"
        var b = a
        b[metadataKey: "k"] = "2"
        b.logLevel = .debug
        #expect(a[metadataKey: "k"] == "1")
        #expect(a.logLevel == .info)
    }

    @Test(arguments: [
        (Logger.MetadataValue.string("plain"), "plain"),
        (.stringConvertible(42), "42"),
        (.array(["a", "b\"c"]), #"["a","b\"c"]"#),
        (.dictionary(["z": "1", "a": ["n": "2"]]), #"{"a":{"n":"2"},"z":"1"}"#),
        (.array([]), "[]"),
        (.dictionary(["ctl": "\u{1}\n"]), #"{"ctl":"\u0001\n"}"#),
    ])
    func nestedValuesRenderDeterministically(value: Logger.MetadataValue, text: String) {
        #expect(MetadataText.render(value) == text)
    }

    @Test func eventMetadataHelperSetsTheEventKey() {
        let metadata = JournalEvent.retrying.metadata(["event": "spoofed", "delay": "2s"])
        #expect(metadata == ["event": "retrying", "delay": "2s"])
        #expect(JournalEvent.ready.metadata() == ["event": "ready"])
    }

    @Test func messageIDsAreDistinct128BitLowercaseHex() {
        let ids = JournalEvent.allCases.map(\.messageID)
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.utf8.count == 32)
            #expect(id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }, "\(id)")
        }
        #expect(Set(JournalEvent.allCases.map(\.rawValue)).count == JournalEvent.allCases.count)
    }
}
