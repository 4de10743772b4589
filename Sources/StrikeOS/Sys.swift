#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// SECURITY: every system call of the daemon goes through here. Calls are
// retried on EINTR; an errno that can only mean a bug in strikecd (EBADF,
// EFAULT, EINVAL on our own arguments) stops the process, because carrying on
// after one risks losing messages; everything else is thrown as SystemError.

/// Thin, typed wrappers over the system calls strikecd uses.
public enum Sys {
    /// Runs a system call, retrying on EINTR; see the file's header.
    public static func retrying<T: BinaryInteger>(_ operation: String, path: String?, _ call: () -> T) throws(SystemError) -> T {
        while true {
            let result = call()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            if code == EBADF || code == EFAULT {
                preconditionFailure("\(operation)(\(path ?? "")) failed with \(String(cString: strerror(code))): a bug in strikecd")
            }
            throw SystemError(errno: code, operation: operation, path: path)
        }
    }

    /// `open(2)`; flags always include O_CLOEXEC.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(SystemError) -> Int32 {
        try retrying("open", path: path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// `openat(2)` relative to a directory descriptor.
    public static func openat(_ dirfd: Int32, _ name: String, _ flags: Int32, mode: mode_t = 0, display: String? = nil) throws(SystemError) -> Int32 {
        try retrying("open", path: display ?? name) { Glibc.openat(dirfd, name, flags | O_CLOEXEC, mode) }
    }

    /// Returns the heap's free memory to the kernel (`malloc_trim(3)`), so
    /// that resident memory falls back after a burst of work.
    public static func trimHeap() {
        // Glibc's module map leaves out <malloc.h>; look the function up.
        typealias MallocTrim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
    }

    /// Fixes glibc's mmap threshold at its default, 128 KiB (`mallopt(3)`,
    /// M_MMAP_THRESHOLD), so that every larger buffer is mapped and handed
    /// back to the kernel when freed.
    ///
    /// Why: by default glibc raises the threshold to the size of each large
    /// block freed, up to 32 MiB, after which the spool's 1 MiB read blocks
    /// and batch arrays come from the heaps of whichever threads made them,
    /// and pin pages there that `trimHeap()` cannot give back. With the
    /// `.jsonl` read-ahead thread that left an idle daemon at 53-54 MiB of
    /// RSS (21-22 MiB of it heap); fixed, 37 MiB (5 MiB), at the same speed
    /// (docs/performance.md). Call once, early.
    public static func fixMmapThreshold() {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD in <malloc.h>
        _ = unsafeBitCast(symbol, to: Mallopt.self)(mmapThreshold, 128 * 1024)
    }

    public static func close(_ fd: Int32) {
        // close(2) must not be retried on EINTR on Linux: the descriptor is gone.
        _ = Glibc.close(fd)
    }

    public static func fstat(_ fd: Int32, path: String? = nil) throws(SystemError) -> stat {
        var info = stat()
        _ = try retrying("fstat", path: path) { Glibc.fstat(fd, &info) }
        return info
    }

    /// `fstatat` without following a final symlink.
    public static func lstatat(_ dirfd: Int32, _ name: String, display: String? = nil) throws(SystemError) -> stat {
        var info = stat()
        _ = try retrying("stat", path: display ?? name) { Glibc.fstatat(dirfd, name, &info, AT_SYMLINK_NOFOLLOW) }
        return info
    }

    /// `lstatat` by a name's bytes, for names that are not UTF-8.
    public static func lstatat(_ dirfd: Int32, _ name: FileName, display: String? = nil) throws(SystemError) -> stat {
        var info = stat()
        _ = try withCName(name) { (cName) throws(SystemError) in
            try retrying("stat", path: display ?? name.escaped) { Glibc.fstatat(dirfd, cName, &info, AT_SYMLINK_NOFOLLOW) }
        }
        return info
    }

    /// Calls `body` with `name`'s bytes as a C string.
    private static func withCName<T>(_ name: FileName, _ body: (UnsafePointer<CChar>) throws(SystemError) -> T) throws(SystemError) -> T {
        let bytes = name.bytes + [0]
        var result: Result<T, SystemError>!
        bytes.withUnsafeBytes { raw in
            result = Result { () throws(SystemError) in try body(raw.baseAddress!.assumingMemoryBound(to: CChar.self)) }
        }
        return try result.get()
    }

    public static func statPath(_ path: String) throws(SystemError) -> Glibc.stat {
        var info = Glibc.stat()
        _ = try retrying("stat", path: path) { Glibc.fstatat(AT_FDCWD, path, &info, 0) }
        return info
    }

    public static func lstatPath(_ path: String) throws(SystemError) -> Glibc.stat {
        var info = Glibc.stat()
        _ = try retrying("stat", path: path) { Glibc.lstat(path, &info) }
        return info
    }

    /// Reads up to `count` bytes; returns fewer only at end of file.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String? = nil) throws(SystemError) -> Int {
        var total = 0
        while total < buffer.count {
            let n = try retrying("read", path: path) { Glibc.read(fd, buffer.baseAddress! + total, buffer.count - total) }
            if n == 0 { break }
            total += n
        }
        return total
    }

    /// Reads up to `buffer.count` bytes at `offset`, without moving the
    /// file offset; returns fewer only at end of file.
    public static func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String? = nil) throws(SystemError) -> Int {
        var total = 0
        while total < buffer.count {
            let n = try retrying("pread", path: path) {
                Glibc.pread(fd, buffer.baseAddress! + total, buffer.count - total, off_t(offset) + off_t(total))
            }
            if n == 0 { break }
            total += n
        }
        return total
    }

    /// Where the file's next data (not a hole) starts, at or after
    /// `offset` (`lseek(2)` with SEEK_DATA); nil when only a hole follows.
    /// A file system that does not track holes says the data starts at
    /// `offset`, and so does this when the call fails.
    public static func nextData(_ fd: Int32, from offset: Int64) -> Int64? {
        let seekData: Int32 = 3  // SEEK_DATA, behind _GNU_SOURCE in <unistd.h>
        let result = lseek(fd, off_t(offset), seekData)
        if result >= 0 { return Int64(result) }
        return errno == ENXIO ? nil : offset
    }

    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String? = nil) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            done += try retrying("write", path: path) { Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done) }
        }
    }

    public static func write(_ fd: Int32, _ bytes: [UInt8], path: String? = nil) throws(SystemError) {
        var failure: SystemError?
        bytes.withUnsafeBytes { raw in
            do throws(SystemError) { try write(fd, raw, path: path) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    public static func fsync(_ fd: Int32, path: String? = nil) throws(SystemError) {
        _ = try retrying("fsync", path: path) { Glibc.fsync(fd) }
    }

    /// Makes everything written to the file system holding `fd` durable, in
    /// one call: for many small files written together, instead of an fsync
    /// each (one journal commit each).
    public static func syncfs(_ fd: Int32, path: String? = nil) throws(SystemError) {
        _ = try retrying("syncfs", path: path) { syncfsCall(fd) }
    }

    /// glibc's syncfs(2), which its Swift module leaves out (it is declared
    /// only under _GNU_SOURCE).
    private static let syncfsCall: @convention(c) (Int32) -> Int32 = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syncfs") else {
            preconditionFailure("the C library has no syncfs")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)
    }()

    /// fsyncs a directory so that renames and unlinks in it are durable.
    public static func fsyncDirectory(_ path: String) throws(SystemError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: path)
    }

    public static func renameat(_ fromDir: Int32, _ from: String, _ toDir: Int32, _ to: String, display: String? = nil) throws(SystemError) {
        _ = try retrying("rename", path: display ?? from) { Glibc.renameat(fromDir, from, toDir, to) }
    }

    /// `renameat` from a name's bytes, for names that are not UTF-8.
    public static func renameat(_ fromDir: Int32, _ from: FileName, _ toDir: Int32, _ to: String, display: String? = nil) throws(SystemError) {
        _ = try withCName(from) { (cName) throws(SystemError) in
            try retrying("rename", path: display ?? from.escaped) { Glibc.renameat(fromDir, cName, toDir, to) }
        }
    }

    /// Moves a file to a name that must not exist yet (link, then unlink the
    /// old name), so that nothing already at the target is ever replaced.
    /// Throws EEXIST when the target exists.
    public static func moveNoReplace(_ fromDir: Int32, _ from: String, _ toDir: Int32, _ to: String, display: String? = nil) throws(SystemError) {
        _ = try retrying("link", path: display ?? from) { Glibc.linkat(fromDir, from, toDir, to, 0) }
        try unlinkat(fromDir, from, display: display)
    }

    public static func unlinkat(_ dirfd: Int32, _ name: String, display: String? = nil) throws(SystemError) {
        _ = try retrying("unlink", path: display ?? name) { Glibc.unlinkat(dirfd, name, 0) }
    }

    public static func mkdir(_ path: String, mode: mode_t) throws(SystemError) {
        _ = try retrying("mkdir", path: path) { Glibc.mkdir(path, mode) }
    }

    public static func chmod(_ path: String, mode: mode_t) throws(SystemError) {
        _ = try retrying("chmod", path: path) { Glibc.chmod(path, mode) }
    }

    /// The names in a directory, without `.` and `..`, in no particular
    /// order; names that are not UTF-8 are left out (`listDirectoryEntries`
    /// has them).
    public static func listDirectory(_ path: String) throws(SystemError) -> [String] {
        try listDirectoryEntries(path).compactMap(\.text)
    }

    /// The names in a directory, without `.` and `..`, in no particular order.
    public static func listDirectoryEntries(_ path: String) throws(SystemError) -> [FileName] {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        return try DirectoryStream(fd: fd, path: path).next(limit: Int.max)
    }

    /// The name of a `readdir` entry, read in place up to its NUL.
    ///
    /// Not `entry.pointee.d_name`: that copies the whole 256-byte array, but
    /// the kernel packs entries (`d_reclen`), so a short name's record ends
    /// well before it, and the copy reads past the end of glibc's buffer
    /// (AddressSanitizer: heap-buffer-overflow on the last entry of a block).
    /// Not `String(cString:)` either: it replaces bytes that are not UTF-8,
    /// and the name it gives opens nothing (ENOENT), so such a file was
    /// taken for gone and stayed in the spool for ever.
    public static func entryName(_ entry: UnsafeMutablePointer<dirent>) -> FileName {
        let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        let name = UnsafeRawPointer(entry).advanced(by: offset).assumingMemoryBound(to: CChar.self)
        if let text = String(validatingCString: name) { return .text(text) }
        return .undecodable(Array(UnsafeRawBufferPointer(start: name, count: strlen(name))))
    }

    /// Seconds since the epoch, from the real-time clock.
    public static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec)
    }

    /// A monotonic reading in nanoseconds, for durations and progress.
    public static func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}

extension stat {
    public var isRegularFile: Bool { (st_mode & S_IFMT) == S_IFREG }

    /// The modification time in nanoseconds since the epoch, saturated at
    /// Int64's bounds. A writer sets its file's times at will (`touch -d
    /// @30000000000`, or near -2^63 on tmpfs and btrfs): they are input, and
    /// arithmetic on them must never trap.
    public var modifiedNanoseconds: Int64 { Self.nanoseconds(st_mtim) }

    /// The status-change time in nanoseconds since the epoch, saturated.
    public var changedNanoseconds: Int64 { Self.nanoseconds(st_ctim) }

    /// When the file's data last changed, in seconds, as far as anyone can
    /// tell: its modification time, unless that lies after its change time.
    /// The kernel sets the change time to its own clock at every write (and
    /// at every `touch -d`), so a modification time later than it was set by
    /// hand, and says nothing about when the writer was last at work.
    public var lastWriteSeconds: Int64 { min(Int64(st_mtim.tv_sec), Int64(st_ctim.tv_sec)) }

    static func nanoseconds(_ time: timespec) -> Int64 {
        let (product, overflow) = Int64(time.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return time.tv_sec < 0 ? .min : .max }
        let (sum, overflowed) = product.addingReportingOverflow(Int64(time.tv_nsec))
        return overflowed ? .max : sum
    }
    public var isDirectory: Bool { (st_mode & S_IFMT) == S_IFDIR }
    public var isSymlink: Bool { (st_mode & S_IFMT) == S_IFLNK }

    /// A word for the file type, for reasons and logs.
    public var typeName: String {
        switch st_mode & S_IFMT {
        case S_IFREG: "regular file"
        case S_IFDIR: "directory"
        case S_IFLNK: "symbolic link"
        case S_IFIFO: "FIFO"
        case S_IFSOCK: "socket"
        case S_IFCHR: "character device"
        case S_IFBLK: "block device"
        default: "special file"
        }
    }
}
