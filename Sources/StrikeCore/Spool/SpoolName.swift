/// What the spool does with a file, judged by its name alone (docs/design.md, "The spool").
public enum SpoolName: Sendable, Equatable {
    /// A temporary name of a sync tool or editor: left alone, untouched, until
    /// it is renamed to a final name.
    case ignore
    /// A Syncthing conflict copy: quarantined with reason `sync-conflict`.
    case syncConflict
    /// One message per file (`*.json` or any other name).
    case message
    /// One message per line (`*.jsonl`).
    case lines

    public init(_ name: String) {
        // rsync's `.name.XXXXXX`, Syncthing's `.syncthing.name.tmp`, editors'
        // swap files and every other hidden file.
        if name.hasPrefix(".") { self = .ignore; return }
        // Syncthing on Windows-formatted media.
        if name.hasPrefix("~syncthing~") { self = .ignore; return }
        if name.hasSuffix(".tmp") || name.hasSuffix(".part") || name.hasSuffix("~") { self = .ignore; return }
        if Self.contains(name, ".sync-conflict-") { self = .syncConflict; return }
        self = name.hasSuffix(".jsonl") ? .lines : .message
    }

    /// A plain byte search: String.contains(_:) goes through generic string
    /// searching, a measurable cost when a drop brings 100,000 names.
    private static func contains(_ text: String, _ needle: StaticString) -> Bool {
        let pattern = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count >= pattern.count else { return false }
            for start in 0...(bytes.count - pattern.count) where bytes[start] == pattern[0] {
                if (1..<pattern.count).allSatisfy({ bytes[start + $0] == pattern[$0] }) { return true }
            }
            return false
        }
    }
}

