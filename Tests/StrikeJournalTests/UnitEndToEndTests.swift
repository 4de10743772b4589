import Foundation
import Testing

@testable import StrikeJournal

#if canImport(Glibc)
import Glibc
#endif

extension ProcessWideTests {
    /// strikecd.socket and strikecd.service, unchanged but for ExecStart=, under a real
    /// systemd: socket activation, Type=notify, the journal and the whole sandbox
    /// (MemoryDenyWriteExecute=, the system call filter, User=, ProtectSystem=…), with
    /// `UnitProbe` standing in for the daemon.
    @Suite struct UnitEndToEndTests {
        @Test(.enabled(if: SystemdNamespace.isAvailable, "needs root, systemd, unshare and nsenter"))
        func socketActivatedServiceRunsInItsSandbox() async throws {
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let systemd = packageRoot.appendingPathComponent("systemd")
            let fm = FileManager.default

            // Users: the host's files plus sysusers.d, applied to copies.
            try fm.createDirectory(at: directory.appendingPathComponent("etc"), withIntermediateDirectories: true)
            for name in ["passwd", "group", "shadow", "gshadow"] {
                try fm.copyItem(atPath: "/etc/\(name)", toPath: directory.appendingPathComponent("etc/\(name)").path)
            }
            let sysusers = try run("/usr/bin/systemd-sysusers", [
                "--root=\(directory.path)", systemd.appendingPathComponent("sysusers.d/strikecd.conf").path,
            ])
            try #require(sysusers.status == 0, "\(sysusers.stderr)")
            try fm.copyItem(
                at: systemd.appendingPathComponent("tmpfiles.d/strikecd.conf"),
                to: directory.appendingPathComponent("tmpfiles.conf")
            )

            // Units: the real ones; ExecStart= runs this test binary's UnitProbe instead.
            let probe = try #require(try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            let probeName = URL(fileURLWithPath: probe).lastPathComponent
            let check = directory.appendingPathComponent("sandbox_check.py")
            try Self.sandboxCheck.write(to: check, atomically: true, encoding: .utf8)
            try (probe + "\n" + check.path + "\n")
                .write(to: directory.appendingPathComponent("copy.list"), atomically: true, encoding: .utf8)
            let units = directory.appendingPathComponent("units")
            try fm.createDirectory(at: units, withIntermediateDirectories: true)
            let service = try String(contentsOf: systemd.appendingPathComponent("strikecd.service"), encoding: .utf8)
            let execStart = "ExecStart=/usr/bin/strikecd --log journal"
            try #require(service.contains(execStart))
            try service.replacingOccurrences(
                of: execStart,
                with: "ExecStart=/run/strikecd-test/\(probeName) --testing-library swift-testing --filter UnitProbe\n"
                    + "Environment=STRIKECD_UNIT_PROBE=1"
            ).write(to: units.appendingPathComponent("strikecd.service"), atomically: true, encoding: .utf8)
            // The same sandbox running SQLite (the system's, as GRDB uses) and file checks.
            try service.replacingOccurrences(
                of: execStart, with: "ExecStart=/usr/bin/python3 /run/strikecd-test/sandbox_check.py"
            ).replacingOccurrences(of: "Type=notify", with: "Type=exec")
                .replacingOccurrences(of: "Restart=on-failure", with: "Restart=no")
                .write(to: units.appendingPathComponent("strikecd-check.service"), atomically: true, encoding: .utf8)
            try fm.copyItem(
                at: systemd.appendingPathComponent("strikecd.socket"), to: units.appendingPathComponent("strikecd.socket")
            )
            try """
                [Unit]
                Description=strikecd end-to-end test
                Requires=strikecd.socket systemd-journald.socket
                After=strikecd.socket systemd-journald.socket

                """.write(to: units.appendingPathComponent("strikecd-test.target"), atomically: true, encoding: .utf8)

            let namespace = try await SystemdNamespace(directory: directory, target: "strikecd-test.target")
            defer { namespace.stop() }

            // One connection starts the service; the probe answers with what it saw.
            let answer = try connectAndRead(namespace.hostPath("/run/strikecd/socket"))
            let passwd = try String(contentsOf: directory.appendingPathComponent("etc/passwd"), encoding: .utf8)
            let uid = try #require(
                passwd.split(separator: "\n").first { $0.hasPrefix("strikecd:") }?.split(separator: ":")[2]
            )
            #expect(answer == "probe output=journal watchdog=30 uid=\(uid)\n")

            let finished = await waitFor {
                let show = try? namespace.run("/bin/systemctl", [
                    "show", "strikecd.service", "-p", "ActiveState", "-p", "Result", "-p", "ExecMainStatus",
                    "-p", "NRestarts", "-p", "StatusText",
                ])
                guard let text = show?.stdout, text.contains("ActiveState=inactive") else { return nil as String? }
                return text
            }
            let state = try #require(finished, "strikecd.service did not finish")
            for line in ["Result=success", "ExecMainStatus=0", "NRestarts=0", "StatusText=probe listening"] {
                #expect(state.contains(line + "\n"), "\(line) missing from:\n\(state)")
            }

            // The journal got structured entries from inside the sandbox, and no complaints.
            let journal = try namespace.run("/bin/journalctl", ["-u", "strikecd.service", "-o", "json", "--no-pager", "--all"])
            let entries = journal.stdout.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
            }
            let ready = entries.first { $0["MESSAGE_ID"] as? String == JournalEvent.ready.messageID }
            #expect(ready?["SYSLOG_IDENTIFIER"] as? String == "strikecd")
            #expect(ready?["STRIKECD_OUTPUT"] as? String == "journal")
            #expect(ready?["_UID"] as? String == String(uid))
            #expect(entries.contains { $0["MESSAGE_ID"] as? String == JournalEvent.stopping.messageID })
            let messages = entries.compactMap { $0["MESSAGE"] as? String }
            #expect(!messages.contains { $0.contains("journal refused") }, "\(messages)")
            // libdispatch's complaint: once (EACCES on raising priority), not per thread
            // (EPERM from the system call filter); see SystemCallFilter=setpriority.
            #expect(messages.filter { $0.contains("Failed to set thread priority") }.count <= 1, "\(messages)")

            // SQLite in WAL mode with full fsync, the spool, and what the sandbox forbids.
            let started = try namespace.run("/bin/systemctl", ["start", "strikecd-check.service"])
            #expect(started.status == 0, "\(started.stderr)")
            let checked = await waitFor {
                let show = try? namespace.run("/bin/systemctl", ["show", "strikecd-check.service", "-p", "ActiveState", "-p", "Result"])
                return show.flatMap { $0.stdout.contains("ActiveState=inactive") || $0.stdout.contains("ActiveState=failed") ? $0.stdout : nil }
            }
            #expect(checked?.contains("Result=success") == true, "\(checked ?? "still running")")
            let checkLog = try namespace.run("/bin/journalctl", ["-u", "strikecd-check.service", "-o", "cat", "--no-pager"])
            #expect(checkLog.stdout.contains("sandbox-check ok"), "\(checkLog.stdout)")

            // The spool and state directories as the sandboxed service sees them.
            for (path, mode) in [("/var/spool/strikecd/incoming", 0o3730), ("/var/spool/strikecd/quarantine", 0o2750),
                                 ("/var/lib/strikecd", 0o750)] {
                var info = stat()
                #expect(stat(namespace.hostPath(path), &info) == 0 && Int(info.st_mode) & 0o7777 == mode, "\(path)")
            }
        }

        /// Run as strikecd-check.service: what the daemon will do (SQLite WAL with full
        /// fsync in the state directory, files in the spool) must work, and what the sandbox
        /// forbids must fail. Prints "sandbox-check ok" or the failures, and exits 1 on any.
        static let sandboxCheck = #"""
            import errno, os, socket, sqlite3, sys
            failures = []
            def expect(ok, what):
                if not ok: failures.append(what)
            db = sqlite3.connect("/var/lib/strikecd/state.sqlite")
            expect(db.execute("pragma journal_mode=wal").fetchone()[0] == "wal", "wal")
            db.execute("pragma synchronous=full")
            db.execute("create table t(x integer not null)")
            with db:
                db.executemany("insert into t values (?)", [(i,) for i in range(1000)])
            expect(db.execute("select count(*) from t").fetchone()[0] == 1000, "rows")
            expect(os.path.exists("/var/lib/strikecd/state.sqlite-shm"), "shm")
            db.close()
            mode = os.stat("/var/lib/strikecd/state.sqlite").st_mode & 0o777
            expect(mode == 0o640, "umask 0027 gives 0640, got %o" % mode)
            reason = "/var/spool/strikecd/quarantine/x.reason"
            with open(reason, "w") as f:
                f.write("{}")
                os.fsync(f.fileno())
            os.rename(reason, reason + ".2")
            os.unlink(reason + ".2")
            os.listdir("/var/spool/strikecd/incoming")
            def denied(action, codes, what):
                try:
                    action()
                    failures.append(what + " was allowed")
                except OSError as e:
                    expect(e.errno in codes, "%s: errno %d" % (what, e.errno))
            denied(lambda: open("/var/spool/elsewhere", "w"), (errno.EROFS, errno.EACCES), "writing outside")
            denied(lambda: open("/etc/strikecd-test", "w"), (errno.EROFS, errno.EACCES), "writing /etc")
            denied(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM), (errno.EAFNOSUPPORT,), "AF_INET")
            denied(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW), (errno.EAFNOSUPPORT,), "AF_NETLINK")
            denied(lambda: os.listdir("/root"), (errno.EACCES, errno.ENOENT), "reading /root")
            denied(lambda: os.setuid(0), (errno.EPERM,), "setuid")
            print("sandbox-check ok" if not failures else "sandbox-check failed: " + "; ".join(failures))
            sys.exit(1 if failures else 0)
            """#

        /// Connects to a Unix stream socket and reads until the peer closes (deadline 30 s).
        private func connectAndRead(_ path: String) throws -> String {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            try #require(fd >= 0)
            defer { close(fd) }
            var timeout = timeval(tv_sec: 30, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            try #require(path.utf8.count < MemoryLayout.size(ofValue: address.sun_path))
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
            }
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            try #require(connected == 0, "connect \(path): errno \(errno)")
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1024)
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { break }
                received.append(contentsOf: buffer[0..<n])
            }
            return String(decoding: received, as: UTF8.self)
        }
    }
}
