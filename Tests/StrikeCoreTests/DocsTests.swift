import StrikeCore
import Testing

// docs/messages.md is a reference people will copy from: every example in it
// must be a valid message, and it must show every type.

@Suite struct MessagesDoc {
    func examples() throws -> [String] {
        RepositoryFiles.codeBlocks(after: "<!-- example -->", in: try RepositoryFiles.text("docs/messages.md"))
    }

    @Test func everyExampleIsValid() throws {
        let blocks = try examples()
        #expect(blocks.count >= 14)
        for block in blocks {
            let reading = read(block, policy: .stored)
            #expect(reading.message != nil, "\(reading.rejection?.code.rawValue ?? ""): \(reading.rejection?.detail ?? "")\n\(block)")
        }
    }

    @Test func everyTypeHasAnExample() throws {
        let types = Set(try examples().compactMap { read($0, policy: .stored).message?.type })
        #expect(types == Set(MessageType.allCases))
    }

    /// The worked example's length is stated in the text.
    @Test func statedLength() throws {
        let docs = try RepositoryFiles.text("docs/messages.md")
        #expect(docs.contains("has this canonical form, \(workedExample.canonical.utf8.count) bytes"))
    }

    /// Each type has its own section, and every allowed value of every closed
    /// vocabulary appears in the docs as `code`.
    @Test func everyTypeAndValueDocumented() throws {
        let docs = try RepositoryFiles.text("docs/messages.md")
        for type in MessageType.allCases {
            #expect(docs.contains("### `\(type.rawValue)`"), "no section for \(type.rawValue)")
        }
        let values = workplaceKinds + ownerships + strikeStatuses + councilLevels + delegateEvents + safetyStatuses
            + demandCategories + demandOutcomes + actionKinds
        for value in values {
            #expect(docs.contains("`\(value)`"), "\(value) is not documented")
        }
    }
}
