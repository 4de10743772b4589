import Foundation

/// A corpus laid out as message files: single `.json` files and `.jsonl`
/// batches, with names that never collide.
public struct CorpusFiles {
    public var files: [(name: String, bytes: [UInt8])] = []

    public init(copies: [[UInt8]], rng: inout SplitMix, prefix: String = "f") {
        var index = 0
        var counter = 0
        while index < copies.count {
            counter += 1
            if Int.random(in: 0..<10, using: &rng) < 6 {
                files.append(("\(prefix)\(counter).json", copies[index]))
                index += 1
            } else {
                let count = min(copies.count - index, Int.random(in: 1...20, using: &rng))
                var bytes: [UInt8] = []
                for copy in copies[index..<(index + count)] {
                    bytes += copy
                    bytes.append(0x0A)
                    // Blank lines and CRLF are part of life.
                    if Int.random(in: 0..<10, using: &rng) == 0 { bytes += [0x0D, 0x0A] }
                }
                files.append(("\(prefix)\(counter).jsonl", bytes))
                index += count
            }
        }
    }

    /// Writes all files plainly into `dir` (the reference copy for `ingest`).
    public func write(to dir: String) throws {
        for file in files {
            try Data(file.bytes).write(to: URL(fileURLWithPath: dir + "/" + file.name))
        }
    }
}
