#if canImport(Glibc)
import Glibc
#endif
import StrikeOS

/// Writes a file so that nobody ever sees it half written: into a hidden
/// temporary name (in `temporaryDirectory`, on the same file system), fsync,
/// rename into `directory/name` without replacing anything, fsync the
/// directory. Used by `strikecd import` (into the spool) and by the export
/// (batches into outboxes). A failure removes the temporary file and throws:
/// nothing is left that a reader could take for the whole.
public enum AtomicFile {
    public static func write(
        directory: String, temporaryDirectory: String? = nil, name: String, mode: mode_t = 0o640,
        _ produce: (_ fd: Int32, _ path: String) throws(SystemError) -> Void
    ) throws(SystemError) {
        let tmpDirectory = temporaryDirectory ?? directory
        let temporary = tmpDirectory + "/." + name + ".tmp"
        let final = directory + "/" + name
        let fd = try Sys.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode: mode)
        do throws(SystemError) {
            try produce(fd, temporary)
            try Sys.fsync(fd, path: temporary)
            Sys.close(fd)
        } catch {
            Sys.close(fd)
            _ = unlink(temporary)
            throw error
        }
        do throws(SystemError) {
            try Sys.moveNoReplace(AT_FDCWD, temporary, AT_FDCWD, final, display: final)
        } catch {
            _ = unlink(temporary)
            throw error
        }
        do throws(SystemError) {
            try Sys.fsyncDirectory(directory)
        } catch where error.errno == EACCES {
            // The spool's incoming/ is 3730: a writer may not open it to
            // fsync it. fsync the file under its new name instead: the link
            // changed its inode, and ext4, XFS and btrfs then commit the new
            // directory entry with it. Gone already means strikecd took it.
            do throws(SystemError) {
                let fd = try Sys.open(final, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                defer { Sys.close(fd) }
                try Sys.fsync(fd, path: final)
            } catch where error.isNotFound {}
        }
    }

    /// Writes `bytes` atomically.
    public static func write(directory: String, temporaryDirectory: String? = nil, name: String, mode: mode_t = 0o640, bytes: [UInt8]) throws(SystemError) {
        try write(directory: directory, temporaryDirectory: temporaryDirectory, name: name, mode: mode) { fd, path throws(SystemError) in
            try Sys.write(fd, bytes, path: path)
        }
    }
}

/// Names of files that federation puts into the spool, which tell the
/// spool whose copies they hold (the peer they are not sent back to).
///
/// `nncp.SENDER.STAMP-PID-RANDOM.json[l]`: from `strikecd import` run by
/// NNCP's exec handler, SENDER its NNCP_SENDER (the node NNCP
/// authenticated); `import.STAMP-PID-RANDOM.json[l]` without one;
/// `inbox.PEER.DIGEST.NAME`: taken from an inbox (PEER `_` for none).
/// Anybody who may write into the spool may choose such a name: at worst
/// their copy is not sent to that one peer, which then asks for it by its
/// gap report.
public enum FederationName {
    public static func nncp(sender: String?, stamp: String, unique: String, lines: Bool) -> String {
        let ext = lines ? ".jsonl" : ".json"
        guard let sender, !sender.isEmpty else { return "import.\(stamp)-\(unique)\(ext)" }
        return "nncp.\(safe(sender)).\(stamp)-\(unique)\(ext)"
    }

    /// A `.jsonl` stays one (one copy per line); any other name is read as
    /// one message, and becomes `.json`.
    public static func inbox(peer: String?, digest: String, name: String) -> String {
        let lines = name.hasSuffix(".jsonl")
        let base = lines ? String(name.dropLast(6)) : name.hasSuffix(".json") ? String(name.dropLast(5)) : name
        return "inbox.\(peer ?? "_").\(digest).\(safe(base))\(lines ? ".jsonl" : ".json")"
    }

    /// The NNCP sender, or the inbox's peer, that a spool file name records.
    public enum Arrival: Equatable, Sendable {
        case nncp(sender: String)
        case inbox(peer: String)
    }

    public static func arrival(_ name: String) -> Arrival? {
        let parts = name.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        switch parts[0] {
        case "nncp": return .nncp(sender: String(parts[1]))
        case "inbox": return parts[1] == "_" ? nil : .inbox(peer: String(parts[1]))
        default: return nil
        }
    }

    /// Letters, digits, `-` and `_` kept; anything else (dots included, so
    /// that the name's fields stay apart) becomes `_`.
    static func safe(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(100).map { scalar -> Unicode.Scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "-", "_": scalar
            default: "_"
            }
        }))
    }
}
