#if canImport(Glibc)
import Glibc
#endif
import StrikeCore
import StrikeOS

/// Each origin's last used seq and the latest sent_at given to it, in a small
/// JSON file, so that `strikectl new` numbers an origin's messages 1, 2, 3, …
/// without anyone counting, and never dates one before the one before it.
///
/// The file is `{"ORIGIN": {"seq": N, "sent_at": "…"}, …}`; a bare number
/// (`{"ORIGIN": N}`, as strikectl wrote it before it kept sent_at) is read as
/// a seq with no sent_at.
///
/// The file is read and written under an exclusive lock (a `.lock` file
/// beside it), and replaced atomically, so two `new` at once never hand out
/// the same seq and a crash never leaves half a file.
struct SeqState {
    let path: String

    /// One origin's counter.
    struct Entry: Equatable {
        var seq: Int64
        /// The greatest sent_at of this origin's numbered messages, if known.
        var sentAt: Timestamp?

        /// Takes a message that was written or signed: the counter only goes up.
        mutating func take(seq: Int64, sentAt: Timestamp) {
            self.seq = max(self.seq, seq)
            if self.sentAt.map({ $0 < sentAt }) ?? true { self.sentAt = sentAt }
        }
    }

    static var defaultPath: String {
        let base = environment("XDG_STATE_HOME") ?? ((environment("HOME") ?? "/root") + "/.local/state")
        return base + "/strikectl/seq.json"
    }

    /// Runs `body` with the state locked; what `body` leaves in the
    /// dictionary is saved when it returns without throwing.
    func update<T>(_ body: (inout [String: Entry]) throws -> T) throws -> T {
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

    /// The counters, read without taking the lock (for showing them).
    func read() throws(Failure) -> [String: Entry] { try load() }

    private func load() throws(Failure) -> [String: Entry] {
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
        var state: [String: Entry] = [:]
        for member in object.members {
            switch member.value {
            case .number(let number) where number.int64 != nil:
                state[member.key] = Entry(seq: number.int64!, sentAt: nil)
            case .object(let entry):
                guard case .number(let number)? = entry["seq"], let seq = number.int64 else {
                    throw Failure("\(path) is damaged (\(member.key) has no seq): fix it, or remove it and give --seq")
                }
                var sentAt: Timestamp?
                if case .string(let text)? = entry["sent_at"] { sentAt = Timestamp(text) }
                state[member.key] = Entry(seq: seq, sentAt: sentAt)
            default:
                throw Failure("\(path) is damaged (\(member.key) has no seq): fix it, or remove it and give --seq")
            }
        }
        return state
    }

    private func save(_ state: [String: Entry]) throws(Failure) {
        let members = state.keys.sorted().map { origin in
            let entry = state[origin]!
            var fields: [(key: String, value: JSONValue)] = [("seq", .number(JSONNumber(entry.seq)))]
            if let sentAt = entry.sentAt { fields.append(("sent_at", .string(sentAt.text))) }
            return (key: origin, value: JSONValue.object(JSONObject(fields)))
        }
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
