#if canImport(Glibc)
import Glibc
#endif

// SECURITY: data at rest. The database holds who the delegates are, where
// they work and what became of them; a copy readable by every local user is
// a leak, and a directory every local user may write lets one of them plant
// the database's -wal or -shm file before the daemon creates it, and so
// write the state. These checks run before SQLite touches anything.

/// Checks and modes for files that must stay private to their service.
public enum PrivateFiles {
    /// Why a private file's place is unsafe.
    public struct Unsafe: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Refuses a directory that everybody may write, with or without the
    /// sticky bit: in /tmp another user may create `NAME-wal` first.
    public static func checkDirectory(of path: String, holding what: String) throws(Unsafe) {
        var directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if directory.isEmpty { directory = path.hasPrefix("/") ? "/" : "." }
        let info: stat
        do {
            info = try Sys.statPath(directory)
        } catch {
            throw Unsafe(description: "cannot use the directory of the \(what) \(path): \(error)")
        }
        guard info.isDirectory else {
            throw Unsafe(description: "\(directory), the directory of the \(what), is not a directory")
        }
        if info.st_mode & S_IWOTH != 0 {
            throw Unsafe(description: "\(directory), the directory of the \(what) \(path), is writable by everybody: another user could plant or replace its files (\(path)-wal, \(path)-shm) and so write the state; keep the \(what) in a directory of its own (e.g. /var/lib/strikecd, mode 0750), or run `chmod o-w \(directory)`")
        }
    }

    /// Creates `path` empty with `mode` if it does not exist (SQLite then
    /// gives its -wal and -shm the same mode), and takes away everybody's
    /// access to it and to `extras` if they have any. Returns warnings to
    /// log: which files it changed, or could not change.
    public static func restrict(_ path: String, mode: mode_t = 0o640, extras: [String] = []) throws(SystemError) -> [String] {
        do {
            let fd = try Sys.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode: mode)
            // The umask may only have narrowed it; make it exactly `mode`.
            fchmod(fd, mode)
            Sys.close(fd)
        } catch where error.errno == EEXIST {
            // An existing database keeps its owner and group; only "other" loses access.
        }
        var warnings: [String] = []
        for file in [path] + extras {
            guard let info = try? Sys.statPath(file), info.isRegularFile, info.st_mode & 0o007 != 0 else { continue }
            let old = String(info.st_mode & 0o777, radix: 8)
            do {
                try Sys.chmod(file, mode: info.st_mode & 0o7770)
                warnings.append("\(file) was readable by everybody (mode \(old)); took that access away")
            } catch {
                warnings.append("\(file) is readable by everybody (mode \(old)) and could not be changed (\(error)); run `chmod o-rwx \(file)`")
            }
        }
        return warnings
    }
}
