#if canImport(Glibc)
import Glibc
#endif
import StrikeCore
import StrikeOS

/// Drops files into strikecd's spool atomically (docs/design.md, "The spool"): write into
/// SPOOL/tmp/ under a unique hidden name, fsync, move into SPOOL/incoming/
/// under a name that cannot clash (never replacing anything), fsync the
/// directory. The daemon never sees a half-written file.
struct SpoolDrop {
    let spool: String

    /// The name given in incoming/: time, pid and randomness, then the
    /// original name (its extension decides .json or .jsonl).
    static func incomingName(for original: String) -> String {
        let base = original.split(separator: "/").last.map(String.init) ?? "message.json"
        var safe = String(String.UnicodeScalarView(base.unicodeScalars.map { scalar -> Unicode.Scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "-", "_": scalar
            default: "_"
            }
        }))
        while safe.hasPrefix(".") { safe.removeFirst() }
        if safe.isEmpty { safe = "message.json" }
        if safe.count > 100 { safe = String(safe.suffix(100)) }
        let stamp = Timestamp.utcText(epochSeconds: Sys.now()).filter { $0 != "-" && $0 != ":" }
        return "\(stamp)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(safe)"
    }

    /// Why strikecd would never read the file `original` under the name
    /// `incomingName(for:)` gives it (a temporary name, or a sync tool's
    /// conflict copy), in words with what to do; nil when it would.
    ///
    /// Refused rather than renamed: whoever named a file `draft.tmp` may not
    /// have meant it to count yet, and `report.json.part` may be half a file.
    static func refusal(for original: String) -> String? {
        let base = original.split(separator: "/").last.map(String.init) ?? original
        switch SpoolName(incomingName(for: original)) {
        case .message, .lines: return nil
        case .syncConflict:
            return "\(original): a sync tool's conflict copy (its name holds .sync-conflict-), which strikecd sets aside unread: compare it with the original, and submit what it adds under a name of its own"
        case .ignore:
            // Only a suffix survives `incomingName` (hidden names lose their dot, `~` becomes `_`).
            let suffix = base.hasSuffix(".part") ? ".part" : ".tmp"
            return "\(original): a name ending in \(suffix) is a file still being written, which strikecd never reads: if it is finished, rename it (to NAME.json, or NAME.jsonl for one message per line) and submit it again"
        }
    }

    /// Writes `bytes` into incoming/ and returns the name it got there.
    func drop(_ bytes: [UInt8], originalName: String) throws(Failure) -> String {
        let tmp = spool + "/tmp"
        let incoming = spool + "/incoming"
        let final = SpoolDrop.incomingName(for: originalName)
        let temporary = "." + final + ".tmp"
        do throws(SystemError) {
            let fd = try Sys.open(tmp + "/" + temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o640)
            do throws(SystemError) {
                try Sys.write(fd, bytes, path: tmp + "/" + temporary)
                try Sys.fsync(fd, path: tmp + "/" + temporary)
                Sys.close(fd)
            } catch {
                Sys.close(fd)
                _ = unlink(tmp + "/" + temporary)
                throw error
            }
            do throws(SystemError) {
                try Sys.moveNoReplace(AT_FDCWD, tmp + "/" + temporary, AT_FDCWD, incoming + "/" + final)
            } catch {
                _ = unlink(tmp + "/" + temporary)
                throw error
            }
            do throws(SystemError) {
                try Sys.fsyncDirectory(incoming)
            } catch where error.errno == EACCES {
                // incoming/ is 3730 (tmpfiles.d/strikecd.conf): a writer may not read it,
                // so cannot open it to fsync it. fsync the file under its new name instead:
                // the link changed its inode, and ext4, XFS and btrfs then commit the new
                // directory entry with it. Gone already means strikecd has taken it.
                do throws(SystemError) {
                    let fd = try Sys.open(incoming + "/" + final, O_RDONLY | O_NOFOLLOW)
                    defer { Sys.close(fd) }
                    try Sys.fsync(fd, path: incoming + "/" + final)
                } catch where error.isNotFound {}
            }
        } catch {
            throw explain(error)
        }
        return final
    }

    private func explain(_ error: SystemError) -> Failure {
        switch error.errno {
        case ENOENT, ENOTDIR:
            return Failure("cannot write into the spool: \(error) (is strikecd installed? the spool is set by --spool or STRIKECD_SPOOL, now \(spool))")
        case EACCES, EPERM:
            return Failure("permission denied: \(error): \(Failure.notInGroup("strikecd-writers"))", status: Failure.permission)
        default:
            return Failure("cannot write into the spool: \(error)")
        }
    }
}

/// The copies in a message file, split as the daemon splits them: a .jsonl
/// file is one message per non-blank line, anything else one message.
struct MessageFile {
    let path: String
    let bytes: [UInt8]

    static let maximumBytes = 64 << 20

    static func read(_ path: String) throws(Failure) -> MessageFile {
        do {
            switch try Sys.readFile(path, limit: maximumBytes) {
            case .bytes(let bytes, _): return MessageFile(path: path, bytes: bytes)
            case .notRegular(let kind): throw Failure("\(path): not a regular file (\(kind))")
            case .tooLarge(let size): throw Failure("\(path): \(size) bytes is too large (at most \(maximumBytes))")
            }
        } catch let failure as Failure {
            throw failure
        } catch let error as SystemError {
            throw Failure("cannot read \(path): \(error)", status: error.errno == EACCES ? Failure.permission : Failure.failed)
        } catch {
            throw Failure("cannot read \(path): \(error)")
        }
    }

    var isLines: Bool { path.hasSuffix(".jsonl") }

    /// (line number or nil, bytes) for each copy.
    var copies: [(line: Int?, bytes: ArraySlice<UInt8>)] {
        guard isLines else { return [(nil, bytes[...])] }
        var result: [(Int?, ArraySlice<UInt8>)] = []
        var line = 1
        for piece in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            defer { line += 1 }
            var trimmed = piece
            if trimmed.last == 0x0D { trimmed = trimmed.dropLast() }
            if trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            result.append((line, trimmed))
        }
        return result
    }
}
