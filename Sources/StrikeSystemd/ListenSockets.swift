#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSystemd

/// A socket systemd passed at start (socket activation, sd_listen_fds(3)).
public struct ListenSocket: Sendable, Hashable {
    /// The descriptor, from 3 (`SD_LISTEN_FDS_START`) up; close-on-exec is set. The caller
    /// owns it (NIO's `bind(_:)` takes it over and closes it).
    public var fileDescriptor: Int32
    /// `FileDescriptorName=` of the socket unit, or `unknown` when it set none.
    public var name: String

    public init(fileDescriptor: Int32, name: String) {
        self.fileDescriptor = fileDescriptor
        self.name = name
    }
}

/// Socket activation failed to read `LISTEN_FDS`/`LISTEN_PID`/`LISTEN_FDNAMES`.
public struct ListenSocketsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var errno: Int32

    public var description: String {
        "cannot read passed sockets (LISTEN_FDS): \(String(cString: strerror(errno)))"
    }
}

/// The sockets systemd passed to this process.
///
/// ```swift
/// let passed = try ListenSockets.take()
/// if let socket = passed.firstUnixStreamListener(named: "varlink") { … adopt socket.fileDescriptor … }
/// else { … bind /run/strikecd/socket ourselves … }
/// ```
public struct ListenSockets: Sendable, Equatable {
    /// Every passed descriptor, in order.
    public var sockets: [ListenSocket]

    public init(sockets: [ListenSocket]) {
        self.sockets = sockets
    }

    /// Reads and *unsets* `LISTEN_FDS`, `LISTEN_PID` and `LISTEN_FDNAMES`, so a second call,
    /// or a child process, sees none. Empty when the process was not socket-activated (or the
    /// variables were meant for another PID).
    ///
    /// Call it once, early in `main`, before any thread could read the environment.
    public static func take() throws(ListenSocketsError) -> ListenSockets {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        let count = sd_listen_fds_with_names(1, &names)
        guard count >= 0 else { throw ListenSocketsError(errno: -count) }
        // libsystemd allocates the array and each string; we free both, on every path.
        defer {
            if let names {
                for index in 0..<Int(count) { free(names[index]) }
                free(names)
            }
        }
        var sockets: [ListenSocket] = []
        for index in 0..<Int(count) {
            let name = names?[index].map { String(cString: $0) } ?? "unknown"
            sockets.append(ListenSocket(fileDescriptor: SD_LISTEN_FDS_START + Int32(index), name: name))
        }
        return ListenSockets(sockets: sockets)
    }

    /// The first passed socket that is a listening `AF_UNIX` `SOCK_STREAM` socket (checked
    /// with sd_is_socket_unix(3)), among those called `name` if given. Nil if none.
    ///
    /// Other passed descriptors are left alone; a daemon that expects only one may close them.
    public func firstUnixStreamListener(named name: String? = nil) -> ListenSocket? {
        sockets.first { socket in
            (name == nil || socket.name == name)
                && Self.isUnixStreamListener(socket.fileDescriptor)
        }
    }

    static func isUnixStreamListener(_ fileDescriptor: Int32) -> Bool {
        #if canImport(Glibc)
        let stream = Int32(SOCK_STREAM.rawValue)
        #else
        let stream = SOCK_STREAM
        #endif
        return sd_is_socket_unix(fileDescriptor, stream, 1, nil, 0) > 0
    }
}
