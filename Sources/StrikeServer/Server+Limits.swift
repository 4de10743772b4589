import Synchronization

/// Counts open connections, in total and per uid, and refuses those over the limits.
final class ConnectionCounter: Sendable {
    enum Admission: Equatable {
        case admitted
        case tooMany
        case tooManyForUID
    }

    private struct State {
        var total = 0
        var perUID: [UInt32: Int] = [:]
    }

    private let state = Mutex(State())
    private let maximum: Int
    private let maximumPerUID: Int

    init(maximum: Int, maximumPerUID: Int) {
        self.maximum = maximum
        self.maximumPerUID = maximumPerUID
    }

    var total: Int { state.withLock { $0.total } }

    /// Counts the connection when it fits; then `release` must follow.
    func admit(uid: UInt32) -> Admission {
        state.withLock { state in
            if state.total >= maximum { return .tooMany }
            let mine = state.perUID[uid, default: 0]
            if mine >= maximumPerUID { return .tooManyForUID }
            state.total += 1
            state.perUID[uid] = mine + 1
            return .admitted
        }
    }

    func release(uid: UInt32) {
        state.withLock { state in
            state.total -= 1
            let mine = state.perUID[uid, default: 1] - 1
            state.perUID[uid] = mine == 0 ? nil : mine
        }
    }
}

/// Lets through at most one log line per kind per interval, counting the
/// rest, so a hostile client cannot flood the journal.
final class LogThrottle: Sendable {
    private let state = Mutex([String: (last: UInt64, suppressed: Int)]())
    private let intervalNanoseconds: UInt64

    init(seconds: UInt64 = 10) {
        intervalNanoseconds = seconds * 1_000_000_000
    }

    /// nil: stay quiet; otherwise how many lines of this kind were suppressed since the last.
    func allow(_ kind: String, now: UInt64) -> Int? {
        state.withLock { entries in
            if let entry = entries[kind], now &- entry.last < intervalNanoseconds {
                entries[kind] = (entry.last, entry.suppressed + 1)
                return nil
            }
            let suppressed = entries[kind]?.suppressed ?? 0
            entries[kind] = (now, 0)
            return suppressed
        }
    }
}
