import Foundation
import Synchronization
import Testing

@testable import StrikeSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Everything here changes process-wide environment variables (NOTIFY_SOCKET, WATCHDOG_*,
/// LISTEN_*), so it runs serialized, and nothing else in this target reads them.
extension ProcessWideTests {
    @Suite struct SystemdEnvironmentTests {
        /// A bound, non-blocking AF_UNIX datagram socket standing in for systemd's notify socket.
        final class NotifySocket {
            let fd: Int32
            let path: String

            init() throws {
                path = "/tmp/strikecd-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
                fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                try #require(fd >= 0)
                var address = sockaddr_un()
                address.sun_family = sa_family_t(AF_UNIX)
                withUnsafeMutableBytes(of: &address.sun_path) { raw in
                    for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
                }
                let bound = withUnsafePointer(to: &address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                    }
                }
                try #require(bound == 0, "bind \(path): errno \(errno)")
            }

            deinit {
                close(fd)
                unlink(path)
            }

            /// The next datagram, or nil if none is queued (sd_notify sends synchronously, so a
            /// datagram that was sent is already here).
            func receive() -> String? {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = recv(fd, &buffer, buffer.count, 0)
                guard n >= 0 else { return nil }
                return String(decoding: buffer[0..<n], as: UTF8.self)
            }
        }

        init() {
            for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"] {
                unsetenv(name)
            }
        }

        // MARK: SystemdNotifier

        @Test func sendsEachStateAsOneDatagram() throws {
            let socket = try NotifySocket()
            setenv("NOTIFY_SOCKET", socket.path, 1)
            defer { unsetenv("NOTIFY_SOCKET") }
            let notifier = SystemdNotifier()
            #expect(notifier.isConfigured)

            #expect(notifier.ready() == .sent)
            #expect(socket.receive() == "READY=1")
            #expect(notifier.ready(status: "applied 3") == .sent)
            #expect(socket.receive() == "READY=1\nSTATUS=applied 3")
            #expect(notifier.status("two\nlines\r\nhere") == .sent)
            #expect(socket.receive() == "STATUS=two lines here")
            #expect(notifier.stopping() == .sent)
            #expect(socket.receive() == "STOPPING=1")
            #expect(notifier.watchdog() == .sent)
            #expect(socket.receive() == "WATCHDOG=1")
            #expect(notifier.extendTimeout(by: .milliseconds(1500)) == .sent)
            #expect(socket.receive() == "EXTEND_TIMEOUT_USEC=1500000")
            #expect(socket.receive() == nil)
        }

        @Test func reloadingCarriesTheMonotonicClock() throws {
            let socket = try NotifySocket()
            setenv("NOTIFY_SOCKET", socket.path, 1)
            defer { unsetenv("NOTIFY_SOCKET") }
            let before = SystemdNotifier.monotonicMicroseconds()
            #expect(SystemdNotifier().reloading() == .sent)
            let after = SystemdNotifier.monotonicMicroseconds()
            let datagram = try #require(socket.receive())
            let lines = datagram.split(separator: "\n")
            #expect(lines.count == 2)
            #expect(lines.first == "RELOADING=1")
            let usec = try #require(lines.last.flatMap { $0.split(separator: "=").last }.flatMap { UInt64($0) })
            #expect(lines.last?.hasPrefix("MONOTONIC_USEC=") == true)
            #expect(before <= usec && usec <= after)
        }

        @Test func everythingIsANoOpWithoutNotifySocket() throws {
            let socket = try NotifySocket()
            let notifier = SystemdNotifier()
            #expect(!notifier.isConfigured)
            #expect(notifier.ready(status: "x") == .notConfigured)
            #expect(notifier.status("x") == .notConfigured)
            #expect(notifier.reloading() == .notConfigured)
            #expect(notifier.stopping() == .notConfigured)
            #expect(notifier.watchdog() == .notConfigured)
            #expect(socket.receive() == nil)
            #expect(notifier.watchdogInterval == nil)
        }

        @Test func reportsAFailedSend() {
            setenv("NOTIFY_SOCKET", "/tmp/strikecd-no-such-socket-\(getpid())", 1)
            defer { unsetenv("NOTIFY_SOCKET") }
            #expect(SystemdNotifier().ready() == .failed(errno: ENOENT))
        }

        @Test func watchdogIntervalComesFromTheEnvironmentForThisPID() {
            defer { unsetenv("WATCHDOG_USEC"); unsetenv("WATCHDOG_PID") }
            let notifier = SystemdNotifier()
            setenv("WATCHDOG_USEC", "30000000", 1)
            setenv("WATCHDOG_PID", "\(getpid())", 1)
            #expect(notifier.watchdogInterval == .seconds(30))
            #expect(notifier.watchdogPingInterval == .seconds(15))
            setenv("WATCHDOG_PID", "\(getpid() + 1)", 1)
            #expect(notifier.watchdogInterval == nil, "the watchdog of another process")
            unsetenv("WATCHDOG_PID")
            #expect(notifier.watchdogInterval == .seconds(30), "no WATCHDOG_PID means this process")
            setenv("WATCHDOG_USEC", "soon", 1)
            #expect(notifier.watchdogInterval == nil)
        }

        @Test func runWatchdogPingsUntilCancelled() async throws {
            let socket = try NotifySocket()
            setenv("NOTIFY_SOCKET", socket.path, 1)
            setenv("WATCHDOG_USEC", "100000", 1)  // 0.1 s: a ping every 50 ms
            defer { unsetenv("NOTIFY_SOCKET"); unsetenv("WATCHDOG_USEC") }
            let task = Task { await SystemdNotifier().runWatchdog() }
            var pings = 0
            let enough = await waitFor(timeout: .seconds(10)) { () -> Bool? in
                while let datagram = socket.receive() {
                    #expect(datagram == "WATCHDOG=1")
                    pings += 1
                }
                return pings >= 3 ? true : nil
            }
            task.cancel()
            await task.value
            #expect(enough == true, "only \(pings) pings")
        }

        /// With no watchdog for this process (none asked for, 0, or another PID's), it
        /// returns without a ping, within a time limit: a loop would have failed, not hung.
        @Test(arguments: [nil, "0", "other-pid"])
        func runWatchdogReturnsAtOnceWhenOff(usec: String?) async throws {
            let socket = try NotifySocket()
            setenv("NOTIFY_SOCKET", socket.path, 1)
            if let usec {
                setenv("WATCHDOG_USEC", usec == "other-pid" ? "100000" : usec, 1)
                if usec == "other-pid" { setenv("WATCHDOG_PID", "\(getpid() + 1)", 1) }
            }
            defer { unsetenv("NOTIFY_SOCKET"); unsetenv("WATCHDOG_USEC"); unsetenv("WATCHDOG_PID") }
            let returned = Atomic<Bool>(false)
            let task = Task {
                await SystemdNotifier().runWatchdog()
                returned.store(true, ordering: .releasing)
            }
            let done = await waitFor(timeout: .seconds(10)) { returned.load(ordering: .acquiring) ? true : nil }
            task.cancel()
            await task.value
            #expect(done == true, "runWatchdog() did not return while the watchdog is off")
            #expect(socket.receive() == nil, "it pinged")
        }

        // MARK: ListenSockets

        @Test func noListenFDsMeansNoSockets() throws {
            let passed = try ListenSockets.take()
            #expect(passed.sockets.isEmpty)
            #expect(passed.firstUnixStreamListener() == nil)
        }

        @Test func socketsForAnotherPIDAreIgnoredAndTheEnvironmentCleared() throws {
            setenv("LISTEN_FDS", "1", 1)
            setenv("LISTEN_PID", "\(getpid() + 1)", 1)
            setenv("LISTEN_FDNAMES", "varlink", 1)
            #expect(try ListenSockets.take().sockets.isEmpty)
            #expect(getenv("LISTEN_FDS") == nil)
            #expect(getenv("LISTEN_PID") == nil)
            #expect(getenv("LISTEN_FDNAMES") == nil)
        }

        @Test func malformedListenFDsThrows() {
            setenv("LISTEN_FDS", "many", 1)
            setenv("LISTEN_PID", "\(getpid())", 1)
            #expect(throws: ListenSocketsError.self) { try ListenSockets.take() }
            unsetenv("LISTEN_FDS")
            unsetenv("LISTEN_PID")
        }

        @Test func firstUnixStreamListenerChecksTypeStateAndName() throws {
            func unixSocket(_ type: Int32, listening: Bool) throws -> Int32 {
                let fd = socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0)
                try #require(fd >= 0)
                if listening {
                    let path = "/tmp/strikecd-listen-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
                    var address = sockaddr_un()
                    address.sun_family = sa_family_t(AF_UNIX)
                    withUnsafeMutableBytes(of: &address.sun_path) { raw in
                        for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
                    }
                    let bound = withUnsafePointer(to: &address) { pointer in
                        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                        }
                    }
                    unlink(path)
                    try #require(bound == 0 && listen(fd, 4) == 0)
                }
                return fd
            }
            let datagram = try unixSocket(Int32(SOCK_DGRAM.rawValue), listening: false)
            let idle = try unixSocket(Int32(SOCK_STREAM.rawValue), listening: false)
            let first = try unixSocket(Int32(SOCK_STREAM.rawValue), listening: true)
            let second = try unixSocket(Int32(SOCK_STREAM.rawValue), listening: true)
            let file = open("/dev/null", O_RDONLY | O_CLOEXEC)
            defer { for fd in [datagram, idle, first, second, file] { close(fd) } }

            let passed = ListenSockets(sockets: [
                ListenSocket(fileDescriptor: datagram, name: "varlink"),
                ListenSocket(fileDescriptor: file, name: "varlink"),
                ListenSocket(fileDescriptor: idle, name: "varlink"),
                ListenSocket(fileDescriptor: first, name: "other"),
                ListenSocket(fileDescriptor: second, name: "varlink"),
            ])
            #expect(passed.firstUnixStreamListener()?.fileDescriptor == first)
            #expect(passed.firstUnixStreamListener(named: "varlink")?.fileDescriptor == second)
            #expect(passed.firstUnixStreamListener(named: "absent") == nil)
        }
    }
}
