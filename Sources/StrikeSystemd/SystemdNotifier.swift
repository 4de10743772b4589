#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSystemd

/// What became of a notification.
public enum NotifyResult: Sendable, Equatable {
    /// Sent to the service manager.
    case sent
    /// `NOTIFY_SOCKET` is unset: not started by systemd as `Type=notify`. Nothing was done.
    case notConfigured
    /// Sending failed with this errno (for example the socket went away).
    case failed(errno: Int32)
}

/// Tells systemd about the daemon's state over `NOTIFY_SOCKET` (sd_notify(3)).
///
/// Every method is a no-op returning ``NotifyResult/notConfigured`` when the process was not
/// started by systemd with `NOTIFY_SOCKET` set, so the daemon calls them unconditionally.
/// `NOTIFY_SOCKET` is read on each call and left in the environment (the watchdog keeps
/// needing it); child processes should be started with a cleaned environment.
///
/// Protocol for `Type=notify` (docs/design.md, "systemd"): ``ready(status:)`` once the store is open, the
/// spool scanned and the socket listening; ``status(_:)`` with live counts; ``reloading()``
/// on SIGHUP and ``ready(status:)`` again when the reload is done; ``stopping()`` on SIGTERM;
/// ``watchdog()`` every ``watchdogPingInterval`` (or run ``runWatchdog()``).
public struct SystemdNotifier: Sendable {
    public init() {}

    /// Whether `NOTIFY_SOCKET` is set.
    public var isConfigured: Bool { getenv("NOTIFY_SOCKET") != nil }

    /// `READY=1`: start-up finished (or a reload did). systemd starts the units ordered after
    /// us only now.
    @discardableResult
    public func ready(status: String? = nil) -> NotifyResult {
        send(["READY=1"] + statusLine(status))
    }

    /// `STATUS=…`: one line shown by `systemctl status`. Newlines become spaces (a newline
    /// would start a new assignment).
    @discardableResult
    public func status(_ text: String) -> NotifyResult {
        send(statusLine(text))
    }

    /// `RELOADING=1` and `MONOTONIC_USEC=` now on `CLOCK_MONOTONIC` in microseconds.
    ///
    /// systemd ≥ 253 requires the timestamp for `Type=notify-reload` to tell this reload
    /// from an earlier one; 252 ignores it. Send ``ready(status:)`` when the reload is done.
    @discardableResult
    public func reloading(status: String? = nil) -> NotifyResult {
        send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())"] + statusLine(status))
    }

    /// `STOPPING=1`: shutdown has begun.
    @discardableResult
    public func stopping(status: String? = nil) -> NotifyResult {
        send(["STOPPING=1"] + statusLine(status))
    }

    /// `WATCHDOG=1`: still alive. Only useful when ``watchdogInterval`` is not nil.
    @discardableResult
    public func watchdog() -> NotifyResult {
        send(["WATCHDOG=1"])
    }

    /// `EXTEND_TIMEOUT_USEC=`: ask for more time for the current start-up, reload or stop
    /// step (a long migration, a big final transaction).
    @discardableResult
    public func extendTimeout(by duration: Duration) -> NotifyResult {
        send(["EXTEND_TIMEOUT_USEC=\(Self.microseconds(duration))"])
    }

    /// Sends the assignments, one per line, in one datagram. Each should be `NAME=value`
    /// without a newline; use the named methods unless a field has none.
    @discardableResult
    public func send(_ assignments: [String]) -> NotifyResult {
        let state = assignments.joined(separator: "\n")
        let result = sd_notify(0, state)
        if result > 0 { return .sent }
        if result == 0 { return .notConfigured }
        return .failed(errno: -result)
    }

    /// The watchdog timeout systemd set (`WatchdogSec=` via `WATCHDOG_USEC`, for this PID),
    /// or nil when the watchdog is off.
    public var watchdogInterval: Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(clamping: usec))
    }

    /// How often to send ``watchdog()``: half of ``watchdogInterval``, as sd_watchdog_enabled(3)
    /// recommends, so one late ping does not get the service killed.
    public var watchdogPingInterval: Duration? {
        watchdogInterval.map { $0 / 2 }
    }

    /// Pings the watchdog every ``watchdogPingInterval`` until the task is cancelled; returns
    /// at once when the watchdog is off.
    ///
    /// Run it as its own task (or ServiceLifecycle service) only after ``ready(status:)``,
    /// and only from a task that stops when the daemon is wedged, or it proves nothing.
    public func runWatchdog() async {
        guard let interval = watchdogPingInterval else { return }
        while !Task.isCancelled {
            watchdog()
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }

    private func statusLine(_ text: String?) -> [String] {
        guard let text else { return [] }
        let oneLine = String(text.map { $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : $0 })
        return ["STATUS=" + oneLine]
    }

    /// `CLOCK_MONOTONIC` now, in microseconds.
    static func monotonicMicroseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000 + UInt64(spec.tv_nsec) / 1_000
    }

    static func microseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000 + UInt64(attoseconds / 1_000_000_000_000)
    }
}
