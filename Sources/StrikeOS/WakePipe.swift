#if canImport(Glibc)
import Glibc
#endif

/// A self-pipe: another thread writes a byte to wake a thread blocked in poll(2).
public final class WakePipe: Sendable {
    /// Poll this for POLLIN.
    public let readFD: Int32
    private let writeFD: Int32

    public init() throws(SystemError) {
        var fds: [Int32] = [-1, -1]
        _ = try Sys.retrying("pipe", path: nil) { pipe(&fds) }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        Sys.close(readFD)
        Sys.close(writeFD)
    }

    /// Wakes the poller; never blocks (a full pipe already means "wake").
    public func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(writeFD, &byte, 1)
    }

    /// Empties the pipe after a wake-up.
    public func drain() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while buffer.withUnsafeMutableBytes({ Glibc.read(readFD, $0.baseAddress!, $0.count) }) > 0 {}
    }
}
