#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Unix-domain stream sockets for clients (strikectl, tests). The daemon's
// server side is SwiftNIO's; these are the blocking calls a one-shot client
// needs, with the same EINTR and errno discipline as the rest of Sys.

extension Sys {
    /// The longest path a `sockaddr_un` holds, without its NUL.
    public static let maximumSocketPath = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// Opens a stream socket connected to the Unix socket at `path`.
    /// ENOENT (no such file) and ECONNREFUSED (nobody listens) mean the
    /// server is not running; EACCES means the caller may not open it.
    public static func connectUnix(_ path: String) throws(SystemError) -> Int32 {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumSocketPath, !bytes.contains(0) else {
            throw SystemError(errno: ENAMETOOLONG, operation: "connect", path: path)
        }
        #if canImport(Glibc)
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
        let type = SOCK_STREAM | SOCK_CLOEXEC
        #endif
        let fd = try retrying("socket", path: path) { socket(AF_UNIX, type, 0) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + bytes.count + 1)
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        if result != 0 {
            let code = errno
            close(fd)
            // connect(2) is not restarted after EINTR on a stream socket; the
            // connection completes in the background, which a one-shot
            // client cannot use, so report it like any failure.
            throw SystemError(errno: code, operation: "connect", path: path)
        }
        return fd
    }

    /// Sends all of `bytes`, without raising SIGPIPE when the peer is gone
    /// (EPIPE is thrown instead).
    public static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws(SystemError) {
        var failure: SystemError?
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                do throws(SystemError) {
                    done += try retrying("send", path: nil) { send(fd, raw.baseAddress! + done, raw.count - done, Int32(MSG_NOSIGNAL)) }
                } catch {
                    failure = error
                    return
                }
            }
        }
        if let failure { throw failure }
    }

    /// Receives up to `buffer.count` bytes; 0 means the peer closed.
    public static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        try retrying("recv", path: nil) { recv(fd, buffer.baseAddress, buffer.count, 0) }
    }

    /// Waits until `fd` is readable (or closed), for at most `milliseconds`
    /// (-1: without limit). Returns false on timeout.
    public static func waitReadable(_ fd: Int32, milliseconds: Int32) throws(SystemError) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = try retrying("poll", path: nil) { poll(&entry, 1, milliseconds) }
        return ready > 0
    }
}

extension Sys {
    /// `chown(path, -1, gid)`: gives a file to a group, keeping its owner.
    public static func changeGroup(_ path: String, gid: UInt32) throws(SystemError) {
        _ = try retrying("chown", path: path) { chown(path, uid_t.max, gid_t(gid)) }
    }

    /// `unlink(2)`.
    public static func unlink(_ path: String) throws(SystemError) {
        _ = try retrying("unlink", path: path) { Glibc.unlink(path) }
    }
}
