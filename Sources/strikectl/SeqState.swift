#if canImport(Glibc)
import Glibc
#endif
import StrikeCore
import StrikeOS

/// Each origin's last used seq, in a small JSON file, so that `strikectl new`
/// numbers an origin's messages 1, 2, 3, … without anyone counting.
///
/// The file is read and written under an exclusive lock (a `.lock` file
/// beside it), and replaced atomically, so two `new` at once never hand out
/// the same seq and a crash never leaves half a file.
struct SeqState {
    let path: String

    static var defaultPath: String {
        let base = environment("XDG_STATE_HOME") ?? ((environment("HOME") ?? "/root") + "/.local/state")
        return base + "/strikectl/seq.json"
    }

    /// Runs `body` with the state locked; what `body` leaves in the
    /// dictionary is saved when it returns without throwing.
    func update<T>(_ body: (inout [String: Int64]) throws -> T) throws -> T {
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !directory.isEmpty { try makeDirectories(directory) }
        let lock: Int32
        do {
            lock = try Sys.open(path + ".lock", O_RDWR | O_CREAT, mode: 0o600)
        } catch {
            throw Failure("cannot open \(path).lock: \(error) (choose another file with --state)")
        }
        defer { Sys.close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            if errno != EINTR { throw Failure("cannot lock \(path).lock: \(String(cString: strerror(errno)))") }
        }
        var state = try load()
        let before = state
        let result = try body(&state)
        if state != before { try save(state) }
        return result
    }

    private func load() throws(Failure) -> [String: Int64] {
        let bytes: [UInt8]
        do {
            switch try Sys.readFile(path, limit: 1 << 20) {
            case .bytes(let read, _): bytes = read
            default: throw Failure("\(path) is not a regular file: remove it or choose another with --state")
            }
        } catch let error as SystemError where error.errno == ENOENT {
            return [:]
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("cannot read \(path): \(error)")
        }
        guard case .object(let object)? = try? JSONReader.read(bytes) else {
            throw Failure("\(path) is damaged (not a JSON object): fix it, or remove it and give --seq")
        }
        var state: [String: Int64] = [:]
        for member in object.members {
            guard case .number(let number) = member.value, let seq = number.int64 else {
                throw Failure("\(path) is damaged (\(member.key) is not a number): fix it, or remove it and give --seq")
            }
            state[member.key] = seq
        }
        return state
    }

    private func save(_ state: [String: Int64]) throws(Failure) {
        let members = state.keys.sorted().map { (key: $0, value: JSONValue.number(JSONNumber(state[$0]!))) }
        let bytes = JSONWriter.bytes(.object(JSONObject(members)), style: .pretty) + [0x0A]
        let temporary = path + ".tmp"
        do {
            let fd = try Sys.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: 0o600)
            defer { Sys.close(fd) }
            try Sys.write(fd, bytes, path: temporary)
            try Sys.fsync(fd, path: temporary)
            try Sys.renameat(AT_FDCWD, temporary, AT_FDCWD, path)
        } catch {
            throw Failure("cannot save \(path): \(error); the message was written, so give --seq next time")
        }
    }

    private func makeDirectories(_ directory: String) throws(Failure) {
        var current = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/") {
            current += "/" + part
            do {
                try Sys.mkdir(current, mode: 0o700)
            } catch where error.errno == EEXIST {
                continue
            } catch {
                throw Failure("cannot create \(current): \(error) (choose another state file with --state)")
            }
        }
    }
}
