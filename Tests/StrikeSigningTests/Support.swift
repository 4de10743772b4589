import Foundation

/// This repository's files, found relative to this source file.
enum RepositoryRoot {
    static let url: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent() // StrikeSigningTests
        .deletingLastPathComponent() // Tests
        .deletingLastPathComponent()

    /// The body of the first fenced code block after `marker` in a Markdown text.
    static func codeBlock(after marker: String, in markdown: String) -> String? {
        guard let range = markdown.range(of: marker) else { return nil }
        let lines = markdown[range.upperBound...].split(separator: "\n", omittingEmptySubsequences: false)
        guard let open = lines.firstIndex(where: { $0.hasPrefix("```") }) else { return nil }
        guard let close = lines[(open + 1)...].firstIndex(where: { $0.hasPrefix("```") }) else { return nil }
        return lines[(open + 1)..<close].joined(separator: "\n")
    }
}
