#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Logging
import StrikeCore
import StrikeJournal
import StrikeOS
import StrikeStore

// SECURITY and CORRECTNESS: an inbox is a directory another program fills (a
// Syncthing receive-only folder, a mounted stick) and strikecd must never
// delete from: Syncthing would spread the deletion, a courier needs the
// stick intact. So each file is taken exactly once by copying it into the
// spool, which then reads it like any other file. Exactly once: the copy is
// written into SPOOL/tmp/ and made durable, then the database records that
// it is being handed over (with its tmp/ name), then it is moved into
// incoming/, then the record says done. A crash before the record leaves an
// orphan in tmp/ (removed at start) and the file is taken again; after it,
// the move is finished from the record. Files are opened like spool files
// (no symlinks, regular files only), and names the spool ignores
// (`.syncthing.*.tmp`, `*.tmp`, `*.part`, ...) or sets aside (sync-conflict
// copies) are skipped.

/// Takes new files from the inboxes into the spool. Used on the spool's thread.
final class InboxFeeder {
    let inboxes: [FederationSettings.Inbox]
    let layout: SpoolLayout
    let store: Store
    let logger: Logger
    static let temporaryPrefix = ".inbox."

    init(inboxes: [FederationSettings.Inbox], layout: SpoolLayout, store: Store, logger: Logger) {
        self.inboxes = inboxes
        self.layout = layout
        self.store = store
        self.logger = logger
        // Copies written into tmp/ by a run that stopped before recording them.
        let recorded = Set(inboxes.flatMap { inbox in ((try? store.inboxFiles(inbox.path)) ?? [:]).values.compactMap(\.dropping) })
        for name in (try? Sys.listDirectory(layout.tmp)) ?? [] where name.hasPrefix(Self.temporaryPrefix) && !recorded.contains(name) {
            _ = unlink(layout.tmp + "/" + name)
        }
    }

    /// Takes every new or changed file of every inbox. Returns how many.
    func scan(now: Int64, gracePeriod: Int64) throws(SpoolTrouble) -> Int {
        var taken = 0
        for inbox in inboxes {
            let known: [String: (size: Int64, mtime: Int64, sha256: String, dropping: String?)]
            do {
                known = try store.inboxFiles(inbox.path)
            } catch {
                throw .store(error)
            }
            let names: [String]
            do {
                names = try Sys.listDirectory(inbox.path)
            } catch where error.isNotFound {
                continue  // a stick not mounted, a folder not made yet
            } catch {
                throw .system(error)
            }
            for name in names.sorted() {
                switch SpoolName(name) {
                case .ignore, .syncConflict: continue
                case .message, .lines: break
                }
                if try take(name, from: inbox, known: known[name], now: now, gracePeriod: gracePeriod) { taken += 1 }
            }
        }
        return taken
    }

    private func take(
        _ name: String, from inbox: FederationSettings.Inbox, known: (size: Int64, mtime: Int64, sha256: String, dropping: String?)?,
        now: Int64, gracePeriod: Int64
    ) throws(SpoolTrouble) -> Bool {
        if let known, let dropping = known.dropping {
            try finish(dropping, inbox: inbox, name: name, size: known.size, mtime: known.mtime, sha256: known.sha256)
            return true
        }
        let path = inbox.path + "/" + name
        let fd: Int32
        do {
            fd = try Sys.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        } catch where error.isNotFound || error.errno == ELOOP || error.errno == ENXIO || error.errno == EACCES {
            return false  // gone, a symlink, a socket, unreadable: left alone
        } catch {
            throw .system(error)
        }
        defer { Sys.close(fd) }
        let info: stat
        do {
            info = try Sys.fstat(fd, path: path)
        } catch {
            throw .system(error)
        }
        guard info.isRegularFile else { return false }
        let size = Int64(info.st_size)
        let mtime = info.lastWriteSeconds
        if let known, known.size == size, known.mtime == mtime { return false }
        // A file still being copied onto the stick: taken once it is quiet.
        if now.subtractingReportingOverflow(mtime).partialValue < gracePeriod, mtime <= now { return false }
        // Copied into tmp/ while hashed.
        var hasher = SHA256()
        let temporary = Self.temporaryPrefix + String(format: "%016llx", UInt64.random(in: 0...UInt64.max)) + ".tmp"
        let temporaryPath = layout.tmp + "/" + temporary
        do throws(SystemError) {
            let out = try Sys.open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode: 0o640)
            do throws(SystemError) {
                var buffer = [UInt8](repeating: 0, count: 1 << 20)
                while true {
                    var failure: SystemError?
                    let count = buffer.withUnsafeMutableBytes { raw -> Int in
                        do throws(SystemError) { return try Sys.read(fd, into: raw, path: path) } catch { failure = error; return 0 }
                    }
                    if let failure { throw failure }
                    if count == 0 { break }
                    hasher.update(data: buffer[0..<count])
                    try Sys.write(out, Array(buffer[0..<count]), path: temporaryPath)
                }
                try Sys.fsync(out, path: temporaryPath)
                Sys.close(out)
            } catch {
                Sys.close(out)
                _ = unlink(temporaryPath)
                throw error
            }
        } catch {
            throw .system(error)
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        if let known, known.sha256 == digest {
            // Touched, not changed: the same bytes were taken already.
            _ = unlink(temporaryPath)
            do {
                try store.recordInboxFile(inbox: inbox.path, name: name, size: size, mtime: mtime, sha256: digest, dropping: nil)
            } catch {
                throw .store(error)
            }
            return false
        }
        do {
            try store.recordInboxFile(inbox: inbox.path, name: name, size: size, mtime: mtime, sha256: digest, dropping: temporary)
        } catch {
            _ = unlink(temporaryPath)
            throw .store(error)
        }
        try finish(temporary, inbox: inbox, name: name, size: size, mtime: mtime, sha256: digest)
        return true
    }

    /// Moves a recorded copy from tmp/ into incoming/ (if it is still in
    /// tmp/) and records that it is there.
    private func finish(_ temporary: String, inbox: FederationSettings.Inbox, name: String, size: Int64, mtime: Int64, sha256: String) throws(SpoolTrouble) {
        let target = FederationName.inbox(peer: inbox.from, digest: String(sha256.prefix(16)), name: name)
        do throws(SystemError) {
            try Sys.moveNoReplace(AT_FDCWD, layout.tmp + "/" + temporary, AT_FDCWD, layout.incoming + "/" + target)
            try Sys.fsyncDirectory(layout.incoming)
            try Sys.fsyncDirectory(layout.tmp)
        } catch where error.isNotFound {
            // Moved before a crash: done.
        } catch where error.errno == EEXIST {
            // The same bytes wait in incoming/ under this name already.
            _ = unlink(layout.tmp + "/" + temporary)
        } catch {
            throw .system(error)
        }
        do {
            try store.recordInboxFile(inbox: inbox.path, name: name, size: size, mtime: mtime, sha256: sha256, dropping: nil)
        } catch {
            throw .store(error)
        }
        logger.info("took \(name) from the inbox \(inbox.path)", metadata: JournalEvent.federationReceived.metadata([
            "file": "\(name)", "peer": "\(inbox.from ?? "")",
        ]))
    }
}
