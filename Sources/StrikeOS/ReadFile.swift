#if canImport(Glibc)
import Glibc
#endif

/// The result of reading a file safely.
public enum SafeRead: Sendable {
    case bytes([UInt8], stat)
    /// Not a regular file (after refusing to follow a symlink).
    case notRegular(String)
    /// Larger than the cap: nothing was read beyond the size check.
    case tooLarge(Int64)
}

extension Sys {
    /// Opens `name` in directory `dirfd` without following symlinks and
    /// without blocking on a FIFO, checks with fstat that it is a regular
    /// file no larger than `limit`, and reads it whole.
    public static func readRegularFile(at dirfd: Int32, _ name: String, limit: Int, display: String) throws(SystemError) -> SafeRead {
        let fd: Int32
        do {
            fd = try openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, display: display)
        } catch where error.errno == ELOOP {
            return .notRegular("symbolic link")
        } catch where error.errno == ENXIO {
            return .notRegular("socket")
        }
        defer { close(fd) }
        let info = try fstat(fd, path: display)
        guard info.isRegularFile else { return .notRegular(info.typeName) }
        if info.st_size > Int64(limit) { return .tooLarge(Int64(info.st_size)) }
        // Read one byte past the size seen by fstat, to notice a file that grew.
        var buffer = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var failure: SystemError?
        let count = buffer.withUnsafeMutableBytes { raw in
            do throws(SystemError) { return try read(fd, into: raw, path: display) } catch { failure = error; return 0 }
        }
        if let failure { throw failure }
        if count > limit { return .tooLarge(Int64(count)) }
        buffer.removeSubrange(count...)
        return .bytes(buffer, info)
    }

    /// Reads a file by path (for paths a user named), as `readRegularFile`:
    /// symbolic links among its directories are followed, but not a final
    /// one (O_NOFOLLOW), which gives `.notRegular("symbolic link")`.
    public static func readFile(_ path: String, limit: Int) throws(SystemError) -> SafeRead {
        try readRegularFile(at: AT_FDCWD, path, limit: limit, display: path)
    }
}
