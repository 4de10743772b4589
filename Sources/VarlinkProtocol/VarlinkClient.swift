#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import StrikeCore
import StrikeOS

/// Why a call through `VarlinkClient` did not give a reply's parameters.
public enum VarlinkClientError: Error, Sendable, CustomStringConvertible {
    /// No socket file (ENOENT) or nobody listening on it (ECONNREFUSED).
    case notRunning(path: String, nobodyListening: Bool)
    /// The socket exists but the caller may not open it (EACCES, EPERM).
    case socketPermissionDenied(path: String)
    /// Any other system failure.
    case system(SystemError)
    /// The server closed the connection before replying.
    case closed
    /// No reply within the timeout.
    case timedOut(seconds: Int)
    /// The server's bytes broke the protocol.
    case violation(VarlinkViolation)
    /// The server answered with an error.
    case reply(VarlinkError)

    public var description: String {
        switch self {
        case .notRunning(let path, let listening): listening ? "nothing listens on \(path)" : "no socket at \(path)"
        case .socketPermissionDenied(let path): "permission denied opening \(path)"
        case .system(let error): error.description
        case .closed: "the server closed the connection"
        case .timedOut(let seconds): "no reply within \(seconds) s"
        case .violation(let violation): "protocol error: \(violation.detail)"
        case .reply(let error): error.description
        }
    }
}

/// A blocking Varlink client over a Unix socket, for strikectl and tests.
///
/// Calls on one client are answered in order; a client is not for sharing
/// between threads. Use `call` for one reply, `stream` for a call with `more`.
public final class VarlinkClient {
    public let path: String
    /// How long to wait for each reply; nil waits forever (for `Watch`).
    public var timeoutSeconds: Int?
    private var fd: Int32
    private var framer: NULFramer

    /// Connects to the socket at `path`.
    ///
    /// - Parameter maximumReplyBytes: a longer reply is a protocol error
    ///   (sd-varlink's own limit is 16 MiB).
    public init(path: String, timeoutSeconds: Int? = 60, maximumReplyBytes: Int = 16 << 20) throws(VarlinkClientError) {
        self.path = path
        self.timeoutSeconds = timeoutSeconds
        framer = NULFramer(maximumFrameBytes: maximumReplyBytes)
        do {
            fd = try Sys.connectUnix(path)
        } catch {
            switch error.errno {
            case ENOENT, ENOTDIR: throw .notRunning(path: path, nobodyListening: false)
            case ECONNREFUSED: throw .notRunning(path: path, nobodyListening: true)
            case EACCES, EPERM: throw .socketPermissionDenied(path: path)
            default: throw .system(error)
            }
        }
    }

    deinit { close() }

    public func close() {
        if fd >= 0 {
            Sys.close(fd)
            fd = -1
        }
    }

    /// Calls a method and returns the reply's parameters; an error reply is
    /// thrown as `.reply`.
    public func call(_ call: VarlinkCall) throws(VarlinkClientError) -> JSONObject {
        try send(call)
        let reply = try receiveReply()
        if let error = reply.error { throw .reply(VarlinkError(error, reply.parameters)) }
        return reply.parameters
    }

    /// Calls a method with `more` and hands each reply's parameters to `body`
    /// until the last reply, or until `body` returns false.
    public func stream(_ call: VarlinkCall, _ body: (JSONObject) -> Bool) throws(VarlinkClientError) {
        var call = call
        call.more = true
        try send(call)
        while true {
            let reply = try receiveReply()
            if let error = reply.error { throw .reply(VarlinkError(error, reply.parameters)) }
            if !body(reply.parameters) || !reply.continues { return }
        }
    }

    /// Sends a call without waiting (for `oneway`, or to pipeline several).
    public func send(_ call: VarlinkCall) throws(VarlinkClientError) {
        try sendRaw(call.bytes() + [0])
    }

    /// Sends bytes as they are: for tests that speak the protocol by hand.
    public func sendRaw(_ bytes: [UInt8]) throws(VarlinkClientError) {
        do {
            try Sys.sendAll(fd, bytes)
        } catch {
            if error.errno == EPIPE || error.errno == ECONNRESET { throw .closed }
            throw .system(error)
        }
    }

    /// Reads the next reply.
    public func receiveReply() throws(VarlinkClientError) -> VarlinkReply {
        guard let frame = try receiveFrame() else { throw .closed }
        do {
            return try VarlinkReply.parse(frame)
        } catch {
            throw .violation(error)
        }
    }

    /// Reads the next frame's bytes without its NUL; nil when the server
    /// closed the connection cleanly between frames.
    public func receiveFrame() throws(VarlinkClientError) -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            do {
                if let frame = try framer.nextFrame() { return frame }
            } catch {
                throw .violation(error)
            }
            do {
                if let timeoutSeconds {
                    let milliseconds = Int32(clamping: timeoutSeconds * 1000)
                    if try !Sys.waitReadable(fd, milliseconds: milliseconds) { throw VarlinkClientError.timedOut(seconds: timeoutSeconds) }
                }
                let count = try chunk.withUnsafeMutableBytes { raw throws(SystemError) in try Sys.receive(fd, into: raw) }
                if count == 0 {
                    if framer.isEmpty { return nil }
                    throw VarlinkClientError.closed
                }
                framer.append(chunk[..<count])
            } catch let error as VarlinkClientError {
                throw error
            } catch let error as SystemError {
                if error.errno == ECONNRESET { throw .closed }
                throw .system(error)
            } catch {
                throw .closed
            }
        }
    }
}
