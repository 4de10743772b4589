/// What the spool does with a file, judged by its name alone (DESIGN.md §4).
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
        if name.contains(".sync-conflict-") { self = .syncConflict; return }
        self = name.hasSuffix(".jsonl") ? .lines : .message
    }
}

