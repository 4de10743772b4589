#if canImport(Glibc)
import Glibc
#endif
import StrikeOS
import Synchronization

// SECURITY: the spool is where strangers' files land. The daemon holds open
// descriptors on its three directories and works relative to them (openat,
// renameat, unlinkat), so a directory swapped for a symlink after start-up
// cannot redirect it. One daemon per spool, enforced with a lock, because two
// would each count the same file.

/// The spool directory: `incoming/`, `tmp/`, `quarantine/` (docs/design.md, "The spool").
public final class SpoolLayout: Sendable {
    public let root: String
    public let incoming: String
    public let tmp: String
    public let quarantine: String
    /// Descriptors of `incoming/` and `quarantine/`. They change only in
    /// `refresh()`, which the spool's thread calls between passes.
    public var incomingFD: Int32 { incomingDescriptor.load(ordering: .acquiring) }
    public var quarantineFD: Int32 { quarantineDescriptor.load(ordering: .acquiring) }
    private let incomingDescriptor: Atomic<Int32>
    private let quarantineDescriptor: Atomic<Int32>
    private let lockFD: Int32

    public enum Failure: Error, CustomStringConvertible {
        case system(SystemError)
        case locked(String)
        case unsafe(String)

        public var description: String {
            switch self {
            case .system(let error): "\(error)"
            case .locked(let path): "another strikecd already uses the spool \(path) (lock held on \(path)/.strikecd.lock); stop it first"
            case .unsafe(let why): why
            }
        }
    }

    /// Opens the spool at `root`, creating missing directories:
    /// `incoming/` and `tmp/` mode 1730 (writers may create files but neither
    /// list nor remove others', as Postfix's maildrop), `quarantine/` 0750.
    /// Existing directories keep their modes (tmpfiles.d may set them).
    public init(root: String) throws(Failure) {
        self.root = root
        incoming = root + "/incoming"
        tmp = root + "/tmp"
        quarantine = root + "/quarantine"
        do {
            try Self.ensureDirectory(root, mode: 0o755)
            try Self.ensureDirectory(incoming, mode: 0o1730)
            try Self.ensureDirectory(tmp, mode: 0o1730)
            try Self.ensureDirectory(quarantine, mode: 0o750)
            for path in [root, incoming, quarantine] {
                let info = try Sys.lstatPath(path)
                guard info.isDirectory else { throw Failure.unsafe("\(path) is a \(info.typeName), not a directory") }
                if info.st_mode & S_IWOTH != 0, info.st_mode & S_ISVTX == 0 {
                    throw Failure.unsafe("\(path) is world-writable without the sticky bit: anyone could remove or replace files; run `chmod o-w \(path)`")
                }
            }
            lockFD = try Sys.open(root + "/.strikecd.lock", O_RDWR | O_CREAT | O_NOFOLLOW, mode: 0o600)
        } catch let error as Failure {
            throw error
        } catch let error as SystemError {
            throw .system(error)
        } catch {
            throw .unsafe("\(error)")
        }
        if flock(lockFD, LOCK_EX | LOCK_NB) != 0 {
            Sys.close(lockFD)
            throw .locked(root)
        }
        do {
            incomingDescriptor = Atomic(try Sys.open(incoming, O_RDONLY | O_DIRECTORY | O_NOFOLLOW))
            quarantineDescriptor = Atomic(try Sys.open(quarantine, O_RDONLY | O_DIRECTORY | O_NOFOLLOW))
        } catch {
            throw .system(error)
        }
    }

    /// What `refresh()` found.
    public struct Refresh: Sendable, Equatable {
        /// Paths whose directory had been replaced (`rm -rf incoming; mkdir
        /// incoming`), or recreated (quarantine/), and were opened anew.
        public var reopened: [String] = []
        /// `incoming/` is gone: nothing can be read until it is back.
        public var incomingMissing = false
    }

    /// Makes the descriptors name the directories now at the spool's paths.
    /// A descriptor keeps the directory it was opened on, so a removed and
    /// recreated `incoming/` would otherwise never be read again, and
    /// quarantine/ removed would fail every write. A missing quarantine/ is
    /// created again (0750); a missing incoming/ is reported, for the
    /// operator (strikecd does not guess at a writer's directory). Only
    /// for the spool's thread, between passes: the old descriptors are closed.
    public func refresh() throws(SystemError) -> Refresh {
        var result = Refresh()
        if try swapIfReplaced(incoming, incomingDescriptor) { result.reopened.append(incoming) }
        if (try? Sys.lstatPath(incoming)) == nil { result.incomingMissing = true }
        if (try? Sys.lstatPath(quarantine)) == nil { try Self.ensureDirectory(quarantine, mode: 0o750) }
        if try swapIfReplaced(quarantine, quarantineDescriptor) { result.reopened.append(quarantine) }
        return result
    }

    private func swapIfReplaced(_ path: String, _ descriptor: borrowing Atomic<Int32>) throws(SystemError) -> Bool {
        let old = descriptor.load(ordering: .acquiring)
        guard let now = try? Sys.lstatPath(path), now.isDirectory else { return false }
        let held = try Sys.fstat(old, path: path)
        guard now.st_dev != held.st_dev || now.st_ino != held.st_ino else { return false }
        let fresh = try Sys.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        descriptor.store(fresh, ordering: .releasing)
        Sys.close(old)
        return true
    }

    deinit {
        Sys.close(incomingFD)
        Sys.close(quarantineFD)
        Sys.close(lockFD)
    }

    private static func ensureDirectory(_ path: String, mode: mode_t) throws(SystemError) {
        do {
            try Sys.mkdir(path, mode: mode)
            // mkdir is subject to the umask; set the mode we meant.
            try Sys.chmod(path, mode: mode)
        } catch where error.errno == EEXIST {
            return
        }
    }

    /// fsyncs a spool directory so renames and unlinks in it are durable.
    public func syncIncoming() throws(SystemError) { try Sys.fsync(incomingFD, path: incoming) }
    public func syncQuarantine() throws(SystemError) { try Sys.fsync(quarantineFD, path: quarantine) }
}
