#if canImport(Glibc)
import Glibc
#endif

/// An inotify instance watching one directory. Events are hints only: the
/// spool's directory scan is the truth (docs/design.md, "The spool").
public final class Inotify {
    public enum Event: Sendable, Equatable {
        /// A name that may now hold a complete file.
        case name(String)
        /// The same, for a name that is not UTF-8 (see `FileName`).
        case undecodableName([UInt8])
        /// The kernel dropped events: rescan.
        case overflow
        /// The watched directory itself was removed or moved away.
        case directoryGone
    }

    public let fd: Int32
    private var watch: Int32 = -1

    public init() throws(SystemError) {
        fd = try Sys.retrying("inotify_init1", path: nil) { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
    }

    deinit { Sys.close(fd) }

    /// Watches `path` for files closed after writing, moved in, or created
    /// (a `link()` into place only shows as a creation).
    public func watch(_ path: String) throws(SystemError) {
        let mask = UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_CREATE)
            | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_ONLYDIR)
        watch = try Sys.retrying("inotify_add_watch", path: path) { inotify_add_watch(fd, path, mask) }
    }

    /// Reads every pending event without blocking; names de-duplicated in
    /// arrival order.
    public func drain() throws(SystemError) -> [Event] {
        var events: [Event] = []
        var seen = Set<FileName>()
        // Room for many events; one event is at most 16 + NAME_MAX + 1 bytes.
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { raw in Glibc.read(fd, raw.baseAddress!, raw.count) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { break }
                throw SystemError(errno: errno, operation: "read inotify", path: nil)
            }
            if count == 0 { break }
            var offset = 0
            while offset + 16 <= count {
                let mask = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self) }
                let length = Int(buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self) })
                let nameBytes = buffer[(offset + 16)..<min(count, offset + 16 + length)].prefix { $0 != 0 }
                offset += 16 + length
                if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                    events.append(.overflow)
                } else if mask & (UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_IGNORED)) != 0 {
                    events.append(.directoryGone)
                } else if !nameBytes.isEmpty {
                    // Decoding with replacement characters would name no file.
                    let name = FileName(nameBytes)
                    guard seen.insert(name).inserted else { continue }
                    switch name {
                    case .text(let text): events.append(.name(text))
                    case .undecodable(let bytes): events.append(.undecodableName(bytes))
                    }
                }
            }
        }
        return events
    }
}

/// Reads a directory's names a chunk at a time, so a directory of a million
/// files never needs a million names in memory.
public final class DirectoryStream {
    private let dir: OpaquePointer
    public let path: String

    /// Streams the directory open at `fd` (which stays open and owned by the caller).
    public init(fd: Int32, path: String) throws(SystemError) {
        let copy = try Sys.retrying("dup", path: path) { dup(fd) }
        guard let dir = fdopendir(copy) else {
            let code = errno
            Sys.close(copy)
            throw SystemError(errno: code, operation: "opendir", path: path)
        }
        rewinddir(dir)
        self.dir = dir
        self.path = path
    }

    deinit { closedir(dir) }

    /// Up to `limit` names (without `.` and `..`); empty at the end.
    public func next(limit: Int) throws(SystemError) -> [FileName] {
        var names: [FileName] = []
        while names.count < limit {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw SystemError(errno: errno, operation: "readdir", path: path) }
                break
            }
            let name = Sys.entryName(entry)
            if name != .text("."), name != .text("..") { names.append(name) }
        }
        return names
    }
}
