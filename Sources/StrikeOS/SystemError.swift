#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from the environment: a system call failed with an errno that a
/// correct program can meet (ENOENT, EACCES, ENOSPC, …). Bugs such as EBADF,
/// EFAULT or EINVAL on our own arguments stop the process instead (see `Sys`).
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    public let errno: Int32
    /// The call that failed, e.g. `open`.
    public let operation: String
    /// The path it was about, if any.
    public let path: String?

    public init(errno: Int32, operation: String, path: String?) {
        self.errno = errno
        self.operation = operation
        self.path = path
    }

    public var description: String {
        let reason = String(cString: strerror(errno))
        if let path { return "\(operation) \(path): \(reason)" }
        return "\(operation): \(reason)"
    }

    /// The disk or quota is full: wait and retry, never blame the input.
    public var isNoSpace: Bool { errno == ENOSPC || errno == EDQUOT }
    /// The file vanished (another process took or removed it).
    public var isNotFound: Bool { errno == ENOENT }
}
