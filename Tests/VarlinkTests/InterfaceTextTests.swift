import Foundation
import Testing
import VarlinkProtocol

/// The .varlink files are the source of truth; InterfaceTexts.swift embeds
/// them, and both must stay within what every Varlink parser accepts.
@Suite struct InterfaceTextTests {
    static func file(_ name: String) throws -> [UInt8] {
        let path = packageRoot + "/Sources/VarlinkProtocol/Interfaces/\(name).varlink"
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test(arguments: InterfaceTexts.all.map(\.name))
    func theEmbeddedTextIsTheFile(name: String) throws {
        let embedded = try #require(InterfaceTexts.all.first { $0.name == name }?.text)
        #expect(Array(embedded.utf8) == (try Self.file(name)), "run Sources/VarlinkProtocol/Interfaces/embed.sh")
    }

    @Test(arguments: InterfaceTexts.all.map(\.text))
    func theTextStaysInTheSafeSubset(text: String) {
        #expect(!text.contains("\r"), "LF line endings only")
        #expect(text.hasSuffix("\n"))
        let code = text.split(separator: "\n").map { line in
            line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        }.joined(separator: "\n")
        #expect(!code.contains(": any") && !code.contains(":any") && !code.contains("?any"), "no `any`")
        #expect(!code.contains("[]?") && !code.contains("[][]") && !code.contains("[string]()"))
        // An enum of one value, `(word)`, breaks the Python client.
        #expect(code.range(of: #"\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\)"#, options: .regularExpression) == nil)
    }

    /// Every type, method, error and field of strikecd's own interfaces
    /// carries a comment on the line before it.
    @Test(arguments: ["org.strikecd.Query", "org.strikecd.Admin"])
    func everythingIsDocumented(name: String) throws {
        let lines = String(decoding: try Self.file(name), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        var undocumented: [String] = []
        var depth = 0
        for (index, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let previous = index > 0 ? lines[index - 1].trimmingCharacters(in: .whitespaces) : ""
            let isMember = line.hasPrefix("type ") || line.hasPrefix("method ") || line.hasPrefix("error ")
            let isField = depth > 0 && line.range(of: #"^[a-z][a-z0-9_]*:"#, options: .regularExpression) != nil
            if (isMember || isField || line.hasPrefix("interface ")) && !previous.hasPrefix("#") {
                undocumented.append(line)
            }
            if !line.hasPrefix("#") {
                depth += line.filter { $0 == "(" }.count - line.filter { $0 == ")" }.count
            }
        }
        #expect(undocumented.isEmpty, "no comment before: \(undocumented)")
    }
}
