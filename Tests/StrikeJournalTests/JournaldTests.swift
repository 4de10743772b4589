import Foundation
import Logging
import Testing

@testable import StrikeJournal

/// JournalLogHandler against a real systemd-journald, read back with journalctl.
extension ProcessWideTests {
    @Suite(.journald)
    struct JournaldTests {
        /// One unique value per test, sent as STRIKECD_TEST_RUN, to find exactly our entries.
        let run = UUID().uuidString.lowercased()

        private func logger(identifier: String = "strikecd") -> Logger {
            var logger = Logger(label: "strikecd.test") { label in
                JournalLogHandler(label: label, identifier: identifier, logLevel: .trace)
            }
            logger[metadataKey: "test_run"] = "\(run)"
            return logger
        }

        private func awaitEntries(count: Int) async throws -> [[String: Any]] {
            let entries = try await waitFor {
                let found = try JournaldTrait.entries(matching: "STRIKECD_TEST_RUN=\(run)")
                return found.count >= count ? found : nil
            }
            return try #require(entries, "journalctl did not show \(count) entries for STRIKECD_TEST_RUN=\(run)")
        }

        @Test func structuredFieldsArrive() async throws {
            let logger = self.logger()
            let line = #line + 1
            logger.notice("quarantined x.json", metadata: JournalEvent.quarantined.metadata([
                "file": "x.json", "reason": "json", "line": "3",
            ]))
            let entry = try #require(try await awaitEntries(count: 1).first)
            #expect(entry["MESSAGE"] as? String == "quarantined x.json")
            #expect(entry["PRIORITY"] as? String == "5")
            #expect(entry["SYSLOG_IDENTIFIER"] as? String == "strikecd")
            #expect(entry["MESSAGE_ID"] as? String == JournalEvent.quarantined.messageID)
            #expect(entry["STRIKECD_EVENT"] as? String == "quarantined")
            #expect(entry["STRIKECD_FILE"] as? String == "x.json")
            #expect(entry["STRIKECD_REASON"] as? String == "json")
            #expect(entry["STRIKECD_LINE"] as? String == "3")
            #expect(entry["CODE_FILE"] as? String == "StrikeJournalTests/JournaldTests.swift")
            #expect(entry["CODE_LINE"] as? String == String(line))
            #expect(entry["CODE_FUNC"] as? String == "structuredFieldsArrive()")
        }

        @Test func invalidKeysArriveSanitisedNoneDropped() async throws {
            let logger = self.logger()
            let metadata: Logger.Metadata = [
                "request.id": "r1",
                "lowercase": "l",
                "_private": "p",
                "9digit": "d",
                "also-bad": "a",
                "ÜNÏCODE key": "u",
                "a.b": "first",
                "a-b": "second",
                String(repeating: "k", count: 80): "long",
            ]
            logger.info("sanitising", metadata: metadata)
            let entry = try #require(try await awaitEntries(count: 1).first)
            #expect(entry["STRIKECD_REQUEST_ID"] as? String == "r1")
            #expect(entry["STRIKECD_LOWERCASE"] as? String == "l")
            #expect(entry["STRIKECD__PRIVATE"] as? String == "p")
            #expect(entry["STRIKECD_9DIGIT"] as? String == "d")
            #expect(entry["STRIKECD_ALSO_BAD"] as? String == "a")
            #expect(entry["STRIKECD__N_CODE_KEY"] as? String == "u")
            // "a-b" sorts before "a.b", so it keeps the plain name.
            #expect(entry["STRIKECD_A_B"] as? String == "second")
            #expect(entry["STRIKECD_A_B_2"] as? String == "first")
            let long = JournalFieldName.name(forMetadataKey: String(repeating: "k", count: 80))
            #expect(long.utf8.count == 64)
            #expect(entry[long] as? String == "long")
            // Nothing dropped: every metadata entry (plus test_run) is a STRIKECD_ field.
            let ours = entry.keys.filter { $0.hasPrefix("STRIKECD_") }
            #expect(ours.count == metadata.count + 1)
        }

        @Test(arguments: [
            (Logger.Level.trace, "7"), (.debug, "7"), (.info, "6"), (.notice, "5"),
            (.warning, "4"), (.error, "3"), (.critical, "2"),
        ])
        func priorities(level: Logger.Level, priority: String) async throws {
            let marker = UUID().uuidString
            logger().log(level: level, "level \(level) \(marker)")
            let entry = try #require(
                try await waitFor {
                    try JournaldTrait.entries(matching: "STRIKECD_TEST_RUN=\(run)")
                        .first { $0["MESSAGE"] as? String == "level \(level) \(marker)" }
                },
                "no journal entry for level \(level)"
            )
            #expect(entry["PRIORITY"] as? String == priority)
        }

        @Test func multilineValuesNestedMetadataAndErrors() async throws {
            struct Failure: Error, CustomStringConvertible { var description: String { "disk full" } }
            let logger = self.logger(identifier: "strikecd-test")
            logger.error(
                "first line\nsecond line",
                error: Failure(),
                metadata: [
                    "event": "not_an_event",
                    "detail": "a\nb=c",
                    "counts": ["b": "2", "a": ["x", "y"]],
                ]
            )
            let entry = try #require(try await awaitEntries(count: 1).first)
            #expect(entry["MESSAGE"] as? String == "first line\nsecond line")
            #expect(entry["SYSLOG_IDENTIFIER"] as? String == "strikecd-test")
            #expect(entry["STRIKECD_DETAIL"] as? String == "a\nb=c")
            #expect(entry["STRIKECD_COUNTS"] as? String == #"{"a":["x","y"],"b":"2"}"#)
            #expect(entry["STRIKECD_ERROR"] as? String == "disk full")
            #expect(entry["STRIKECD_EVENT"] as? String == "not_an_event")
            #expect(entry["MESSAGE_ID"] == nil, "an unknown event must not get a MESSAGE_ID")
        }

        @Test func everyEventGetsItsMessageID() async throws {
            let logger = self.logger()
            for event in JournalEvent.allCases {
                logger.info("event \(event.rawValue)", metadata: event.metadata())
            }
            let entries = try await awaitEntries(count: JournalEvent.allCases.count)
            var seen: [String: String] = [:]
            for entry in entries {
                if let event = entry["STRIKECD_EVENT"] as? String, let id = entry["MESSAGE_ID"] as? String {
                    seen[event] = id
                }
            }
            for event in JournalEvent.allCases {
                #expect(seen[event.rawValue] == event.messageID)
            }
        }
    }
}
