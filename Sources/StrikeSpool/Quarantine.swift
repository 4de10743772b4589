#if canImport(Glibc)
import Glibc
#endif
import Crypto
import StrikeCore
import StrikeOS

/// Why a copy is in quarantine, written beside it as `NAME.reason` (JSON).
public struct QuarantineReason: Sendable, Equatable {
    public var code: String
    public var detail: String
    /// The line in the original `.jsonl`, if the copy was one line of it.
    public var line: Int?
    /// SHA-256 of the quarantined bytes, lower-case hex (nil if not kept).
    public var sha256: String?
    public var size: Int64?
    /// RFC 3339 UTC.
    public var time: String
    /// The name the file had in incoming/.
    public var original: String

    public var json: JSONValue {
        func opt(_ v: Int64?) -> JSONValue { v.map { .number(JSONNumber($0)) } ?? .null }
        return .record([
            "code": .string(code), "detail": .string(detail), "line": opt(line.map(Int64.init)),
            "sha256": sha256.map(JSONValue.string) ?? .null, "size": opt(size), "time": .string(time),
            "original": .string(original),
        ])
    }
}

/// Moves rejected copies into `quarantine/`, never silently deleting one.
///
/// Every quarantined copy gets a `.reason` sidecar. Names never overwrite an
/// earlier, different quarantined file: a suffix `.1`, `.2`, … is added.
/// Writing the same line file again (after a crash) reuses the same name.
struct Quarantine {
    let layout: SpoolLayout

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Moves `incoming/name` (whatever kind of file it is: a symlink or FIFO is
    /// moved as itself, never followed) into quarantine/ with its reason.
    /// Returns the quarantine name, or nil if the file was already gone.
    @discardableResult
    func moveFile(_ name: String, reason: QuarantineReason) throws(SystemError) -> String? {
        for attempt in 0..<1000 {
            let target = attempt == 0 ? name : "\(name).\(attempt)"
            if (try? Sys.lstatat(layout.quarantineFD, target)) != nil { continue }
            // The reason first: a crash between the two leaves a reason without
            // its file (harmless, rewritten next time), never a file without reason.
            try writeReason(for: target, reason)
            do {
                // rename, not link + unlink: atomic, so a crash leaves the file in
                // exactly one place. quarantine/ is the daemon's own directory,
                // so nothing can take `target` between the check and the rename.
                try Sys.renameat(layout.incomingFD, name, layout.quarantineFD, target, display: layout.incoming + "/" + name)
                return target
            } catch where error.isNotFound {
                try? Sys.unlinkat(layout.quarantineFD, target + ".reason")
                return nil
            }
        }
        throw SystemError(errno: EEXIST, operation: "quarantine", path: layout.quarantine + "/" + name)
    }

    /// Copies a rejected one-message file into quarantine/ as a file of the
    /// daemon's own (so administrators, the group of quarantine/, can read it
    /// and its writer can no longer change it through another link), then
    /// removes the original. Falls back to `moveFile` when the file is not the
    /// one that was judged (`sha256` differs) or cannot be read.
    ///
    /// Crash-safe like a rename: a crash after the copy and before the unlink
    /// finds the same bytes under the same name next time and reuses it.
    ///
    /// With `grouped`, the copy is written without an fsync of its own and
    /// the original stays: the caller makes a whole batch of copies durable
    /// at once (`Sys.syncfs`), then removes the originals. An fsync per copy
    /// and per reason made a drop of junk ten times slower than good files.
    /// `left` turns true when the original was copied and left in place.
    @discardableResult
    func copyFile(_ name: String, sha256: String, reason: QuarantineReason, grouped: Bool = false, left: inout Bool) throws(SystemError) -> String? {
        let display = layout.incoming + "/" + name
        let read: SafeRead
        do {
            read = try Sys.readRegularFile(at: layout.incomingFD, name, limit: ValidationPolicy.maximumMessageBytes, display: display)
        } catch where error.isNotFound {
            return nil
        }
        guard case .bytes(let bytes, _) = read, Self.sha256Hex(bytes) == sha256 else {
            return try moveFile(name, reason: reason)
        }
        let target = try writeCopy(bytes, base: name, reason: reason, durable: !grouped)
        if grouped {
            left = true
            return target
        }
        do {
            try Sys.unlinkat(layout.incomingFD, name, display: display)
        } catch where error.isNotFound {}
        return target
    }

    /// Writes one bad line of a `.jsonl` as its own file `NAME.line-N` (the
    /// line's bytes, or nothing if it was too large to keep) with its reason.
    /// Not durable until the caller syncs the file system (`Sys.syncfs`).
    @discardableResult
    func writeLine(_ bytes: [UInt8]?, name: String, reason: QuarantineReason) throws(SystemError) -> String {
        try writeCopy(bytes ?? [], base: "\(name).line-\(reason.line ?? 0)", reason: reason, durable: false)
    }

    /// Writes `content` as `base` (or `base.N` when a different file has that
    /// name) with its reason; the same bytes already there are reused.
    private func writeCopy(_ content: [UInt8], base: String, reason: QuarantineReason, durable: Bool = true) throws(SystemError) -> String {
        for attempt in 0..<1000 {
            let target = attempt == 0 ? base : "\(base).\(attempt)"
            if let existing = try? Sys.readRegularFile(at: layout.quarantineFD, target, limit: ValidationPolicy.maximumMessageBytes + 1, display: target) {
                // Written before a crash: the same bytes mean the same copy.
                if case .bytes(let old, _) = existing, old == content {
                    try writeReason(for: target, reason, durable: durable)
                    return target
                }
                continue
            }
            try writeAtomically(target, content, durable: durable)
            try writeReason(for: target, reason, durable: durable)
            return target
        }
        throw SystemError(errno: EEXIST, operation: "quarantine", path: layout.quarantine + "/" + base)
    }

    private func writeReason(for target: String, _ reason: QuarantineReason, durable: Bool = true) throws(SystemError) {
        try writeAtomically(target + ".reason", JSONWriter.bytes(reason.json, style: .pretty) + [0x0A], replace: true, durable: durable)
    }

    /// Writes a file in quarantine/ via a hidden temporary name and fsync, then
    /// renames it into place (replacing only when asked).
    private func writeAtomically(_ target: String, _ bytes: [UInt8], replace: Bool = false, durable: Bool = true) throws(SystemError) {
        let temporary = ".tmp-\(getpid())-\(target.utf8.count)-\(UInt32.random(in: 0...UInt32.max))"
        let fd = try Sys.openat(layout.quarantineFD, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o640, display: temporary)
        do throws(SystemError) {
            do throws(SystemError) {
                try Sys.write(fd, bytes, path: temporary)
                if durable { try Sys.fsync(fd, path: temporary) }
            } catch {
                Sys.close(fd)
                throw error
            }
            Sys.close(fd)
            if replace {
                try Sys.renameat(layout.quarantineFD, temporary, layout.quarantineFD, target, display: target)
            } else {
                try Sys.moveNoReplace(layout.quarantineFD, temporary, layout.quarantineFD, target, display: target)
            }
        } catch {
            try? Sys.unlinkat(layout.quarantineFD, temporary)
            throw error
        }
    }
}
