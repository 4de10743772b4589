#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import StrikeOS

/// Who is at the other end of a connection, from SO_PEERCRED: the kernel's
/// word, fixed when the peer connected, not anything the peer says.
public struct PeerCredentials: Sendable, Equatable, CustomStringConvertible {
    public let pid: Int32
    public let uid: UInt32
    public let gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    public var description: String { "uid \(uid) (pid \(pid))" }
}

/// `struct ucred` from <sys/socket.h>. Swift's Glibc module hides it behind
/// `__USE_GNU`, so this is a layout-compatible copy (pid_t, uid_t, gid_t).
private struct UCred: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

extension Channel {
    /// The peer's credentials. Fails for channels that are not sockets.
    func peerCredentials() -> EventLoopFuture<PeerCredentials> {
        guard let provider = self as? SocketOptionProvider else {
            return eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
        }
        let future: EventLoopFuture<UCred> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future.map { PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid) }
    }
}
