import Foundation

/// A tmpfs mounted over a test's own directory, unmounted when released:
/// for file times only 64-bit file systems keep (`touch -d @-2^63+1`), and
/// for a disk that fills up. Root only (`isAvailable`).
public final class Tmpfs: @unchecked Sendable {
    public let path: String

    public static var isAvailable: Bool { getuid() == 0 }

    /// Mounts a tmpfs with `options` (`size=`, `nr_inodes=`) on `path`, which
    /// must exist and be empty.
    public init(at path: String, options: String = "size=8m") throws {
        guard mount("tmpfs", path, "tmpfs", 0, options) == 0 else {
            throw TimeoutError(description: "mount tmpfs on \(path): errno \(errno)")
        }
        self.path = path
    }

    /// Creates files in `directory` until the file system refuses
    /// (ENOSPC); returns their paths, to be removed to make room again.
    public func fill(_ directory: String) -> [String] {
        var made: [String] = []
        while made.count < 100_000 {
            let path = directory + "/.filler-\(made.count)"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            if fd < 0 { break }
            let block = [UInt8](repeating: 0, count: 1 << 16)
            var wrote = 0
            repeat { wrote = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } } while wrote == block.count
            close(fd)
            made.append(path)
            if wrote < 0 { break }
        }
        return made
    }

    deinit { umount2(path, Int32(MNT_DETACH)) }
}

/// Sets a file's access and modification times to `seconds` since the
/// epoch, as `touch -d @SECONDS` does (any 64-bit value the file system takes).
public func setFileTimes(_ path: String, seconds: Int) throws {
    let times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
    guard utimensat(AT_FDCWD, path, times, 0) == 0 else {
        throw TimeoutError(description: "utimensat \(path) to \(seconds): errno \(errno)")
    }
}
