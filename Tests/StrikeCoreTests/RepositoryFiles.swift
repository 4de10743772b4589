import Foundation

/// Files of this repository that tests check against: docs/messages.md (its
/// spec vectors) and examples/. Found relative to this source file, so the
/// tests run from any working directory.
enum RepositoryFiles {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent() // StrikeCoreTests
        .deletingLastPathComponent() // Tests
        .deletingLastPathComponent()

    static func bytes(_ relativePath: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(relativePath)))
    }

    static func text(_ relativePath: String) throws -> String {
        String(decoding: try bytes(relativePath), as: UTF8.self)
    }

    /// Regular files under `relativePath`, recursively, as paths relative to the
    /// root, sorted.
    static func files(under relativePath: String) throws -> [String] {
        let base = root.appendingPathComponent(relativePath)
        var paths: [String] = []
        func walk(_ directory: URL, _ prefix: String) throws {
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
                let url = directory.appendingPathComponent(name)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    try walk(url, prefix + name + "/")
                } else {
                    paths.append(prefix + name)
                }
            }
        }
        try walk(base, relativePath + "/")
        return paths.sorted()
    }

    /// The bodies of the fenced code blocks that directly follow each `marker`.
    static func codeBlocks(after marker: String, in markdown: String) -> [String] {
        markdown.components(separatedBy: marker).dropFirst().compactMap { codeBlock(after: "", in: $0) }
    }

    /// The body of the first fenced code block after `marker` in a Markdown text.
    static func codeBlock(after marker: String, in markdown: String) -> String? {
        guard let range = marker.isEmpty ? markdown.startIndex..<markdown.startIndex : markdown.range(of: marker) else { return nil }
        let lines = markdown[range.upperBound...].split(separator: "\n", omittingEmptySubsequences: false)
        guard let open = lines.firstIndex(where: { $0.hasPrefix("```") }) else { return nil }
        guard let close = lines[(open + 1)...].firstIndex(where: { $0.hasPrefix("```") }) else { return nil }
        return lines[(open + 1)..<close].joined(separator: "\n")
    }
}
