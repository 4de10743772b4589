#if canImport(Glibc)
import Glibc
#endif
import Logging
import StrikeOS

/// Why the server could not start or keep serving; crosses into the daemon.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public let detail: String

    public init(_ detail: String) { self.detail = detail }

    public var description: String { detail }
}

enum SocketPath {
    /// A socket this process bound: its path, and its identity, so that it
    /// is removed only while the path still names that socket, never one a
    /// later daemon bound there since.
    struct Bound: Sendable {
        let path: String
        let device: UInt64
        let inode: UInt64

        init(_ path: String) throws(ServerError) {
            let info: stat
            do {
                info = try Sys.lstatPath(path)
            } catch {
                throw ServerError("cannot check the socket \(path) just bound: \(error)")
            }
            self.path = path
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }

        /// Removes the socket if the path still names it.
        func remove() throws(SystemError) {
            let info: stat
            do {
                info = try Sys.lstatPath(path)
            } catch where error.errno == ENOENT {
                return
            }
            guard UInt64(info.st_dev) == device, UInt64(info.st_ino) == inode, (info.st_mode & S_IFMT) == S_IFSOCK else { return }
            try Sys.unlink(path)
        }
    }

    /// Makes `path` free to bind: nothing there, or a stale socket that
    /// nobody listens on (removed). Anything else is left alone and refused.
    static func prepare(_ path: String, logger: Logger) throws(ServerError) {
        guard path.utf8.count <= Sys.maximumSocketPath else {
            throw ServerError("the socket path \(path) is longer than \(Sys.maximumSocketPath) bytes; choose a shorter one")
        }
        let info: stat
        do {
            info = try Sys.lstatPath(path)
        } catch where error.errno == ENOENT {
            return
        } catch {
            throw ServerError("cannot check the socket path: \(error)")
        }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw ServerError("\(path) exists and is not a socket (\(info.typeName)); it was left alone: remove it or choose another socket path")
        }
        do {
            let fd = try Sys.connectUnix(path)
            Sys.close(fd)
            throw ServerError("another process is already listening on \(path) (is strikecd already running?)")
        } catch let error as ServerError {
            throw error
        } catch let error as SystemError where error.errno == ECONNREFUSED {
            do {
                try Sys.unlink(path)
            } catch {
                throw ServerError("cannot remove the stale socket \(path): \(error)")
            }
            logger.info("removed a stale socket nobody listened on", metadata: ["socket": "\(path)"])
        } catch {
            throw ServerError("cannot check whether something listens on \(path): \(error)")
        }
    }

    /// Sets the bound socket's mode and group. The group is best effort: a
    /// daemon that is not root can only give it to its own groups.
    static func secure(_ path: String, mode: UInt32, group: String?, logger: Logger) throws(ServerError) {
        do {
            try Sys.chmod(path, mode: mode_t(mode))
        } catch {
            throw ServerError("cannot set the mode of \(path): \(error)")
        }
        guard let group else { return }
        do {
            guard let entry = try Sys.group(named: group) else {
                logger.warning("the socket's group does not exist; only root can connect",
                               metadata: ["socket": "\(path)", "group": "\(group)"])
                return
            }
            try Sys.changeGroup(path, gid: entry.gid)
        } catch {
            logger.warning("cannot give the socket to its group; only its owner can connect",
                           metadata: ["socket": "\(path)", "group": "\(group)", "error": "\(error)"])
        }
    }
}
