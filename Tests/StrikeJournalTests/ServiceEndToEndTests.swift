import Foundation
import Testing

@testable import StrikeJournal

#if canImport(Glibc)
import Glibc
#endif

extension ProcessWideTests {
    /// The real strikecd and strikectl, installed by scripts/install (DESTDIR staging,
    /// PREFIX=/usr/local) into a real systemd booted in a PID and mount namespace: socket
    /// activation by the first query, a writer's drop applied, who may query and who may
    /// not, quarantine with its journal entry, reload, a clean stop, and the sandbox as the
    /// running daemon sees it. Nothing reaches the host: /usr/local and /var/* are tmpfs
    /// there, /etc an overlay (see `SystemdNamespace`).
    @Suite struct ServiceEndToEndTests {
        /// Test accounts, added to the namespace's copies of the account files with
        /// systemd-sysusers next to the ones strikecd's own sysusers.d snippet makes.
        static let testUsers = """
            u strikecd-e2e-member   -  "strikecd test, may query"
            m strikecd-e2e-member   strikecd
            u strikecd-e2e-writer   -  "strikecd test, may drop files"
            m strikecd-e2e-writer   strikecd-writers
            u strikecd-e2e-outsider -  "strikecd test, in no strikecd group"

            """

        /// Runs once every private mount is in place and before systemd starts: the
        /// staged installation goes into a tmpfs /usr/local and the /etc overlay. It
        /// refuses to copy anything unless both are the namespace's own.
        static let prepare = """
            set -eu
            D="$1"
            [ "$(findmnt -n -o FSTYPE /etc)" = overlay ]
            mount -t tmpfs -o mode=0755 tmpfs /usr/local
            [ "$(findmnt -n -o FSTYPE /usr/local)" = tmpfs ]
            cp -a "$D/stage/usr/local/." /usr/local/
            cp -a "$D/stage/etc/." /etc/

            """

        static let strike = #"{"v":1,"origin":"e2e-committee","seq":1,"sent_at":"2020-08-24T09:30:00+03:00","type":"strike.reported","data":{"workplace":"motor-works","status":"strike","participants":1200}}"#
        static let council = #"{"v":1,"origin":"e2e-committee","seq":2,"sent_at":"2020-08-24T10:00:00+03:00","type":"workplace.reported","data":{"workplace":"motor-works","name":"Motor Works","kind":"plant"}}"#
        static let inquorate = #"{"v":1,"origin":"e2e-committee","seq":3,"sent_at":"2020-08-24T11:00:00+03:00","type":"delegate.elected","data":{"delegate":"finch","workplace":"motor-works","council":"city-strike-council","votes":{"for":60,"against":20,"abstain":10},"quorum":120}}"#

        @Test(.enabled(if: SystemdNamespace.isAvailable, "needs root, systemd, unshare and nsenter"))
        func installedDaemonUnderSystemd() async throws {
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let fm = FileManager.default

            // Install: the debug binaries next to this test bundle, staged with DESTDIR.
            let executable = try #require(try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            let binaries = URL(fileURLWithPath: executable).deletingLastPathComponent().path
            for name in ["strikecd", "strikectl"] {
                try #require(fm.isExecutableFile(atPath: "\(binaries)/\(name)"), "build \(name) first (swift build --build-tests)")
            }
            let stage = directory.appendingPathComponent("stage")
            var environment = ProcessInfo.processInfo.environment
            environment["DESTDIR"] = stage.path
            environment["PREFIX"] = "/usr/local"
            environment["SYSCONFDIR"] = "/etc"
            environment["BINDIR_SOURCE"] = binaries
            let install = try run(packageRoot.appendingPathComponent("scripts/install").path, [], environment: environment)
            try #require(install.status == 0, "scripts/install: \(install.stderr)")
            let staged = stage.appendingPathComponent("usr/local/lib")
            let unit = try String(contentsOf: staged.appendingPathComponent("systemd/system/strikecd.service"), encoding: .utf8)
            #expect(unit.contains("\nExecStart=/usr/local/bin/strikecd --log journal\n"))
            #expect(fm.fileExists(atPath: stage.appendingPathComponent("etc/strikecd/strikecd.yaml").path))

            // The installed configuration requires signatures: the committee makes a key
            // (strikectl keygen), its public half goes into the keyring, and every message
            // the test drops is signed (strikectl sign), as an operator would set it up.
            let keys = directory.appendingPathComponent("keys")
            let keygen = try run("\(binaries)/strikectl", ["keygen", "e2e-committee", "--key-dir", keys.path])
            try #require(keygen.status == 0, "strikectl keygen: \(keygen.stderr)")
            let keyring = stage.appendingPathComponent("etc/strikecd/keys")
            try fm.createDirectory(at: keyring, withIntermediateDirectories: true)
            // The committee reports on the Motor Works: its keyring entry says it speaks for it.
            let publicKey = try String(contentsOf: keys.appendingPathComponent("e2e-committee.pub"), encoding: .utf8)
            try (publicKey + "speaks-for workplace:motor-works\n")
                .write(to: keyring.appendingPathComponent("e2e-committee.pub"), atomically: false, encoding: .utf8)
            var signed: [String] = []
            // (strikectl sign refuses the inquorate election: it signs only valid messages.)
            for (index, message) in [Self.strike, Self.council].enumerated() {
                let file = directory.appendingPathComponent("unsigned-\(index).json")
                try message.write(to: file, atomically: false, encoding: .utf8)
                let sign = try run("\(binaries)/strikectl", ["sign", "--key-dir", keys.path, file.path])
                try #require(sign.status == 0, "strikectl sign: \(sign.stderr)")
                signed.append(try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
            }
            let (strike, council, inquorate) = (signed[0], signed[1], Self.inquorate)
            #expect(strike.contains(#""sig":""#))

            // Accounts: the host's files plus the installed sysusers.d and the test users,
            // applied to copies; tmpfiles.d is applied in the namespace by SystemdNamespace.
            try fm.createDirectory(at: directory.appendingPathComponent("etc"), withIntermediateDirectories: true)
            for name in ["passwd", "group", "shadow", "gshadow"] {
                try fm.copyItem(atPath: "/etc/\(name)", toPath: directory.appendingPathComponent("etc/\(name)").path)
            }
            let testUsers = directory.appendingPathComponent("strikecd-e2e-users.conf")
            try Self.testUsers.write(to: testUsers, atomically: false, encoding: .utf8)
            let sysusers = try run("/usr/bin/systemd-sysusers", [
                "--root=\(directory.path)", staged.appendingPathComponent("sysusers.d/strikecd.conf").path, testUsers.path,
            ])
            try #require(sysusers.status == 0, "\(sysusers.stderr)")
            try fm.copyItem(at: staged.appendingPathComponent("tmpfiles.d/strikecd.conf"),
                            to: directory.appendingPathComponent("tmpfiles.conf"))
            let accounts = try Accounts(directory: directory.appendingPathComponent("etc"))
            let daemon = try accounts.user("strikecd")
            let member = try accounts.user("strikecd-e2e-member")
            let writer = try accounts.user("strikecd-e2e-writer")
            let outsider = try accounts.user("strikecd-e2e-outsider")
            let queryGroup = try accounts.gid("strikecd")

            // Files the namespace needs from /tmp, which it covers; units in /etc/systemd/system.
            try Self.prepare.write(to: directory.appendingPathComponent("prepare.sh"), atomically: false, encoding: .utf8)
            let check = directory.appendingPathComponent("sandbox_check.py")
            try Self.sandboxCheck.write(to: check, atomically: false, encoding: .utf8)
            let submitted = directory.appendingPathComponent("council.json")
            try council.write(to: submitted, atomically: false, encoding: .utf8)
            try [check.path, submitted.path].map { $0 + "\n" }.joined()
                .write(to: directory.appendingPathComponent("copy.list"), atomically: false, encoding: .utf8)
            let units = directory.appendingPathComponent("units")
            try fm.createDirectory(at: units, withIntermediateDirectories: true)
            // Only journald: strikecd.socket is started by the test, as a user would.
            try """
                [Unit]
                Description=strikecd end-to-end test
                Requires=systemd-journald.socket
                After=systemd-journald.socket

                """.write(to: units.appendingPathComponent("strikecd-test.target"), atomically: false, encoding: .utf8)
            // The installed unit's sandbox running Python's checks of what it forbids.
            try unit.replacingOccurrences(
                of: "ExecStart=/usr/local/bin/strikecd --log journal",
                with: "ExecStart=/usr/bin/python3 /run/strikecd-test/sandbox_check.py"
            ).replacingOccurrences(of: "Type=notify", with: "Type=exec")
                .replacingOccurrences(of: "Restart=on-failure", with: "Restart=no")
                .write(to: units.appendingPathComponent("strikecd-check.service"), atomically: false, encoding: .utf8)

            let namespace = try await SystemdNamespace(directory: directory, target: "strikecd-test.target")
            defer { namespace.stop() }
            let ns = Namespace(namespace: namespace)

            // Installed where systemd looks: /usr/local/lib/systemd/system.
            let fragment = try ns.show("strikecd.service", ["FragmentPath", "ActiveState"])
            #expect(fragment["FragmentPath"] == "/usr/local/lib/systemd/system/strikecd.service")
            #expect(fragment["ActiveState"] == "inactive")
            // The spool, as the installed tmpfiles.d snippet made it for the sysusers.d accounts.
            for (path, mode, group) in [("/var/spool/strikecd/incoming", 0o3730, "strikecd-writers"),
                                        ("/var/spool/strikecd/tmp", 0o3730, "strikecd-writers"),
                                        ("/var/spool/strikecd/quarantine", 0o2750, "strikecd-admin")] {
                try Self.expectFile(namespace.hostPath(path), mode: mode, uid: daemon.uid, gid: try accounts.gid(group))
            }

            // The socket first; the service only on the first query.
            let startSocket = try ns.systemctl(["start", "strikecd.socket"])
            try #require(startSocket.status == 0, "\(startSocket.stderr)")
            #expect(try ns.show("strikecd.socket", ["ActiveState"])["ActiveState"] == "active")
            #expect(try ns.show("strikecd.service", ["ActiveState"])["ActiveState"] == "inactive")
            let first = try ns.strikectl(["status", "--json"])
            try #require(first.status == 0, "strikectl status: \(first.stderr)")
            let empty = try #require(Summary(json: first.stdout), "not a Summary: \(first.stdout)")
            #expect(empty == Summary(workplaces: 0, striking: 0, participants: 0, applied: 0, duplicates: 0, rejected: 0))
            #expect(first.stdout.contains(#""delegates":{"#) && first.stdout.contains(#""demands":{"#), "\(first.stdout)")
            let running = try ns.show("strikecd.service", ["ActiveState", "SubState", "StatusText", "MainPID"])
            #expect(running["ActiveState"] == "active" && running["SubState"] == "running", "\(running)")
            #expect(running["StatusText"]?.hasPrefix("applied 0, duplicates 0, rejected 0") == true, "\(running)")
            try Self.expectFile(namespace.hostPath("/run/strikecd/socket"), mode: 0o660, uid: daemon.uid, gid: queryGroup)
            try Self.expectFile(namespace.hostPath("/var/lib/strikecd"), mode: 0o750, uid: daemon.uid, gid: daemon.gid)
            try Self.expectFile(namespace.hostPath("/var/lib/strikecd/state.sqlite"), mode: 0o640, uid: daemon.uid, gid: daemon.gid)

            // A writer drops a file the atomic way: tmp/, then rename into incoming/.
            let drop = try ns.drop(strike, name: "e2e-strike.json", as: writer)
            try #require(drop.status == 0, "drop: \(drop.stderr)")
            let afterStrike = await waitFor(timeout: .seconds(15), every: .milliseconds(100)) { () -> Summary? in
                guard let result = try? ns.strikectl(["status", "--json"], as: member), result.status == 0,
                      let summary = Summary(json: result.stdout), summary.applied == 1 else { return nil }
                return summary
            }
            #expect(afterStrike == Summary(workplaces: 0, striking: 1, participants: 1200, applied: 1, duplicates: 0, rejected: 0))
            #expect(!fm.fileExists(atPath: namespace.hostPath("/var/spool/strikecd/incoming/e2e-strike.json")))

            // strikectl submit, as the writer: the same drop, by the tool made for it.
            let submit = try ns.strikectl(["submit", "/run/strikecd-test/council.json"], as: writer)
            #expect(submit.status == 0, "strikectl submit as a writer: \(submit.status) \(submit.stderr)")
            let afterSubmit = await waitFor(timeout: .seconds(15), every: .milliseconds(100)) { () -> Summary? in
                guard let result = try? ns.strikectl(["status", "--json"], as: member),
                      let summary = Summary(json: result.stdout), summary.applied == 2 else { return nil }
                return summary
            }
            #expect(afterSubmit?.workplaces == 1, "\(String(describing: afterSubmit))")

            // Refused: the socket's mode (0660 strikecd:strikecd) stops anyone outside the
            // group at connect(2), EACCES, before the daemon sees anything; strikectl exits 77.
            for (user, who) in [(outsider, "a user in no group"), (writer, "a writer")] {
                let refused = try ns.strikectl(["status", "--json"], as: user)
                #expect(refused.status == 77, "\(who): \(refused.status) \(refused.stdout) \(refused.stderr)")
                #expect(refused.stderr.contains("permission denied: cannot open /run/strikecd/socket"), "\(who): \(refused.stderr)")
                #expect(refused.stdout.isEmpty)
            }
            // Past the socket's mode with the group in hand but not in the group database:
            // the daemon's own check (SO_PEERCRED, then NSS) answers PermissionDenied, also 77.
            let smuggled = try namespace.run("/usr/bin/setpriv", [
                "--reuid=\(outsider.uid)", "--regid=\(outsider.gid)", "--groups=\(queryGroup)", "--",
                "/usr/local/bin/strikectl", "status", "--json",
            ])
            #expect(smuggled.status == 77, "\(smuggled.status) \(smuggled.stderr)")
            #expect(smuggled.stderr.contains("your user is not in group strikecd"), "\(smuggled.stderr)")
            let refusal = await waitFor(timeout: .seconds(15), every: .milliseconds(100)) {
                ns.journal("strikecd.service").first { $0["MESSAGE_ID"] as? String == JournalEvent.clientRejected.messageID }
            }
            #expect(refusal?["STRIKECD_PEER_UID"] as? String == "\(outsider.uid)", "\(String(describing: refusal))")
            #expect(refusal?["STRIKECD_REASON"] as? String == "permission-denied", "\(String(describing: refusal))")

            // A bad file: quarantined with its reason, and the journal says so with fields.
            let bad = try ns.drop(inquorate, name: "e2e-inquorate.json", as: writer)
            try #require(bad.status == 0, "drop: \(bad.stderr)")
            let reasonPath = namespace.hostPath("/var/spool/strikecd/quarantine/.e2e-inquorate.json.reason")
            let reasonData = await waitFor(timeout: .seconds(15), every: .milliseconds(100)) {
                fm.contents(atPath: reasonPath).flatMap { $0.isEmpty ? nil : $0 }
            }
            let reason = try #require(reasonData, "no \(reasonPath)")
            let reasonObject = try #require(try JSONSerialization.jsonObject(with: reason) as? [String: Any])
            // Unsigned (strikectl sign signs only valid messages), and a signature is
            // judged before the body: its origin did not vouch for it, so "unsigned".
            #expect(reasonObject["code"] as? String == "unsigned", "\(reasonObject)")
            #expect(reasonObject["original"] as? String == "e2e-inquorate.json", "\(reasonObject)")
            #expect(fm.fileExists(atPath: namespace.hostPath("/var/spool/strikecd/quarantine/e2e-inquorate.json")))
            try Self.expectFile(namespace.hostPath("/var/spool/strikecd/quarantine/.e2e-inquorate.json.reason"),
                                mode: 0o640, uid: daemon.uid, gid: try accounts.gid("strikecd-admin"))
            // tmpfiles.d/strikecd.conf: the daemon copies a rejected file into quarantine/ so
            // that it belongs to the daemon and group strikecd-admin, who may read it there.
            try Self.expectFile(namespace.hostPath("/var/spool/strikecd/quarantine/e2e-inquorate.json"),
                                mode: 0o640, uid: daemon.uid, gid: try accounts.gid("strikecd-admin"))
            let quarantined = await waitFor(timeout: .seconds(15), every: .milliseconds(100)) {
                ns.journal("strikecd.service").first {
                    $0["MESSAGE_ID"] as? String == JournalEvent.quarantined.messageID
                        && $0["STRIKECD_FILE"] as? String == "e2e-inquorate.json"
                }
            }
            let entry = try #require(quarantined, "no quarantine entry in the journal")
            #expect(entry["STRIKECD_REASON"] as? String == "unsigned", "\(entry)")
            #expect(entry["SYSLOG_IDENTIFIER"] as? String == "strikecd")
            #expect(entry["_UID"] as? String == "\(daemon.uid)")
            #expect(entry["_SYSTEMD_UNIT"] as? String == "strikecd.service")
            // The installed catalog (/usr/local/lib/systemd/catalog) explains it with -x.
            let catalog = try namespace.run("/bin/journalctl", ["--update-catalog"])
            #expect(catalog.status == 0, "\(catalog.stderr)")
            let explained = try namespace.run("/bin/journalctl", [
                "-x", "--no-pager", "-u", "strikecd.service", "MESSAGE_ID=\(JournalEvent.quarantined.messageID)",
            ])
            #expect(explained.stdout.contains("Subject: A spool file was quarantined"), "\(explained.stdout)")
            let afterBad = try Summary(json: ns.strikectl(["status", "--json"]).stdout)
            #expect(afterBad?.rejected == 1 && afterBad?.applied == 2, "\(String(describing: afterBad))")

            // Reload: RELOADING=1, the configuration re-read, READY=1; still running.
            let mainPID = try #require(running["MainPID"])
            let reload = try ns.systemctl(["reload", "strikecd.service"])
            #expect(reload.status == 0, "\(reload.stderr)")
            let reloaded = await waitFor(timeout: .seconds(15), every: .milliseconds(100)) {
                ns.journal("strikecd.service").first { $0["MESSAGE_ID"] as? String == JournalEvent.reloaded.messageID }
            }
            #expect(reloaded != nil, "no reloaded entry")
            let afterReload = try ns.show("strikecd.service", ["ActiveState", "SubState", "MainPID", "NRestarts"])
            #expect(afterReload == ["ActiveState": "active", "SubState": "running", "MainPID": mainPID, "NRestarts": "0"])
            // Its threads' nice values: 0, but for libdispatch's manager thread at -4
            // (LimitNICE=-4), the only one above the default.
            let tasks = try FileManager.default.contentsOfDirectory(atPath: namespace.hostPath("/proc/\(mainPID)/task"))
            let nices = tasks.compactMap { task -> Int? in
                guard let stat = try? String(contentsOfFile: namespace.hostPath("/proc/\(mainPID)/task/\(task)/stat"), encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { return nil }
                // Fields after "(comm)": state is field 3, nice field 19.
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                return fields.count > 16 ? Int(fields[16]) : nil
            }
            #expect(nices.count == tasks.count && nices.count > 3, "\(nices)")
            let limits = (try? String(contentsOfFile: namespace.hostPath("/proc/\(mainPID)/limits"), encoding: .utf8)) ?? ""
            let niceLimitApplied = limits.split(separator: "\n").contains {
                $0.hasPrefix("Max nice priority") && $0.split(separator: " ").dropFirst(3).first == "24"
            }
            #expect(nices.filter { $0 != 0 }.allSatisfy { $0 == -4 } && nices.filter { $0 == -4 }.count <= 1, "nice values \(nices)")

            // The sandbox, as the running daemon sees it: / read-only, its directories not.
            let mountinfo = try String(contentsOfFile: namespace.hostPath("/proc/\(mainPID)/mountinfo"), encoding: .utf8)
            let root = mountinfo.split(separator: "\n").map { $0.split(separator: " ") }.last { $0.count > 5 && $0[4] == "/" }
            #expect(root.map { $0[5].split(separator: ",").contains("ro") } == true, "/ is not read-only:\n\(mountinfo)")
            for (path, writable) in [("/etc/strikecd-e2e", false), ("/usr/local/strikecd-e2e", false),
                                     ("/var/spool/strikecd-e2e", false), ("/var/lib/strikecd/e2e", true),
                                     ("/var/spool/strikecd/quarantine/.e2e", true)] {
                let touch = try namespace.run("/usr/bin/nsenter", [
                    "-t", mainPID, "-m", "-S", "\(daemon.uid)", "-G", "\(daemon.gid)", "--",
                    "/bin/sh", "-c", "touch \"$1\" && rm \"$1\"", "sh", path,
                ])
                #expect((touch.status == 0) == writable, "\(path): \(touch.status) \(touch.stderr)")
                if !writable { #expect(touch.stderr.contains("Read-only file system"), "\(path): \(touch.stderr)") }
            }
            let security = try namespace.run("/usr/bin/systemd-analyze", ["security", "--no-pager", "strikecd.service"])
            let scorePattern = try Regex(#"Overall exposure level for strikecd\.service: (\d+\.\d+)"#)
            let scoreMatch = try #require((security.stdout + security.stderr).firstMatch(of: scorePattern), "\(security.stdout)\(security.stderr)")
            let score = try #require(Double(String(scoreMatch.output[1].substring ?? "")))
            #expect(score == 0.5, "exposure \(score) of the running unit; README.md and docs/security.md say 0.5")

            // Stop: STOPPING=1, the transaction finished, exit 0.
            let stop = try ns.systemctl(["stop", "strikecd.service"])
            #expect(stop.status == 0, "\(stop.stderr)")
            let stopped = try ns.show("strikecd.service", ["ActiveState", "Result", "ExecMainStatus", "ExecMainCode"])
            #expect(stopped == ["ActiveState": "inactive", "Result": "success", "ExecMainStatus": "0", "ExecMainCode": "1"],
                    "\(stopped)")

            // The journal: the whole story from inside the sandbox, and no complaints.
            let journal = ns.journal("strikecd.service")
            let events = journal.compactMap { $0["STRIKECD_EVENT"] as? String }
            for event in [JournalEvent.started, .ready, .batchApplied, .clientRejected, .quarantined, .reloading, .reloaded,
                          .stopping, .stopped] {
                #expect(events.contains(event.rawValue), "no \(event) in \(events)")
            }
            let ready = journal.first { $0["MESSAGE_ID"] as? String == JournalEvent.ready.messageID }
            #expect(ready?["_UID"] as? String == "\(daemon.uid)")
            let messages = journal.compactMap { $0["MESSAGE"] as? String }
            #expect(!messages.contains { $0.contains("journal refused") }, "\(messages)")
            #expect(!messages.contains { $0.contains("watchdog") }, "\(messages)")
            // libdispatch's complaint, through syslog: "Failed to set thread priority for
            // worker thread ... errno=13" whenever a worker thread of a queue above the default
            // QoS was made (GRDB's and the spool's .userInitiated queues: at every reload's
            // rescan), and once for its manager thread (-4); see LimitNICE= in the unit.
            let entries = ns.journal(nil)
            let priority = entries.filter { ($0["MESSAGE"] as? String)?.contains("Failed to set thread priority") == true }
            func time(_ entry: [String: Any]) -> Int { Int(entry["__REALTIME_TIMESTAMP"] as? String ?? "") ?? 0 }
            let reloadedAt = entries.first { $0["MESSAGE_ID"] as? String == JournalEvent.reloading.messageID }.map(time)
            #expect(reloadedAt != nil, "no reloading entry")
            #expect(!priority.contains { time($0) >= reloadedAt ?? 0 }, "after the reload: \(priority.map { $0["MESSAGE"] ?? "" })")
            if niceLimitApplied {
                #expect(priority.isEmpty, "\(priority.map { $0["MESSAGE"] ?? "" })")
            } else {
                // systemd could not raise RLIMIT_NICE: its namespace lacks CAP_SYS_RESOURCE
                // (so does this machine's bounding set), and LimitNICE=-4 was cut to 0. The
                // manager thread's request, at start, still fails here; nothing else does.
                withKnownIssue("LimitNICE= cut to 0: no CAP_SYS_RESOURCE where systemd runs") {
                    #expect(priority.isEmpty, "\(priority.map { $0["MESSAGE"] ?? "" })")
                }
                #expect(priority.count <= 1, "\(priority.map { $0["MESSAGE"] ?? "" })")
            }

            // The socket is still there: the next query starts the daemon again, on the
            // same database.
            let again = try ns.strikectl(["status", "--json"], as: member)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(Summary(json: again.stdout) == afterBad, "\(again.stdout)")
            let restart = try ns.systemctl(["stop", "strikecd.service"])
            #expect(restart.status == 0, "\(restart.stderr)")

            // strikecd.path: a file dropped while the daemon is stopped starts it, with no
            // query (a copy of the strike report: a duplicate, counted and removed).
            let startPath = try ns.systemctl(["start", "strikecd.path"])
            #expect(startPath.status == 0, "\(startPath.stderr)")
            #expect(try ns.show("strikecd.service", ["ActiveState"])["ActiveState"] == "inactive")
            let pathDrop = try ns.drop(strike, name: "e2e-path.json", as: writer)
            try #require(pathDrop.status == 0, "drop: \(pathDrop.stderr)")
            let pickedUp = await waitFor(timeout: .seconds(20), every: .milliseconds(100)) { () -> Bool? in
                fm.fileExists(atPath: namespace.hostPath("/var/spool/strikecd/incoming/e2e-path.json")) ? nil : true
            }
            #expect(pickedUp == true, "the dropped file was not taken: strikecd.path did not start the service")
            #expect(try ns.show("strikecd.service", ["ActiveState"])["ActiveState"] == "active")
            let afterPath = try ns.strikectl(["status", "--json"], as: member)
            #expect(Summary(json: afterPath.stdout)?.duplicates == (afterBad?.duplicates ?? 0) + 1, "\(afterPath.stdout)")
            let stopAll = try ns.systemctl(["stop", "strikecd.path", "strikecd.service"])
            #expect(stopAll.status == 0, "\(stopAll.stderr)")

            // What the sandbox forbids, tried by Python under the same unit settings.
            let startCheck = try ns.systemctl(["start", "strikecd-check.service"])
            #expect(startCheck.status == 0, "\(startCheck.stderr)")
            let checked = await waitFor {
                let show = try? ns.show("strikecd-check.service", ["ActiveState", "Result"])
                return show.flatMap { ["inactive", "failed"].contains($0["ActiveState"] ?? "") ? $0 : nil }
            }
            #expect(checked?["Result"] == "success", "\(String(describing: checked))")
            let checkLog = try namespace.run("/bin/journalctl", ["-u", "strikecd-check.service", "-o", "cat", "--no-pager"])
            #expect(checkLog.stdout.contains("sandbox-check ok"), "\(checkLog.stdout)")
        }

        static func expectFile(_ path: String, mode: Int, uid: UInt32, gid: UInt32,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
            var info = stat()
            try #require(lstat(path, &info) == 0, "\(path): errno \(errno)", sourceLocation: sourceLocation)
            let actual = Int(info.st_mode) & 0o7777
            #expect(actual == mode, "\(path): mode \(String(actual, radix: 8))", sourceLocation: sourceLocation)
            #expect(info.st_uid == uid && info.st_gid == gid, "\(path): owner \(info.st_uid):\(info.st_gid)",
                    sourceLocation: sourceLocation)
        }

        /// Run as strikecd-check.service, with the daemon stopped: what the sandbox forbids
        /// must fail, what the daemon needs (SQLite WAL with full fsync in the state
        /// directory, files in the spool) must work. Prints "sandbox-check ok" or the
        /// failures, and exits 1 on any.
        static let sandboxCheck = #"""
            import errno, os, socket, sqlite3, sys
            failures = []
            def expect(ok, what):
                if not ok: failures.append(what)
            path = "/var/lib/strikecd/sandbox-check.sqlite"
            db = sqlite3.connect(path)
            expect(db.execute("pragma journal_mode=wal").fetchone()[0] == "wal", "wal")
            db.execute("pragma synchronous=full")
            db.execute("create table t(x integer not null)")
            with db:
                db.executemany("insert into t values (?)", [(i,) for i in range(1000)])
            expect(db.execute("select count(*) from t").fetchone()[0] == 1000, "rows")
            expect(os.path.exists(path + "-shm"), "shm")
            db.close()
            mode = os.stat(path).st_mode & 0o777
            expect(mode == 0o640, "umask 0027 gives 0640, got %o" % mode)
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix): os.unlink(path + suffix)
            reason = "/var/spool/strikecd/quarantine/.x.reason"
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
    }
}

/// The numbers of `strikectl status --json` (Summary()) the test looks at.
private struct Summary: Equatable, CustomStringConvertible {
    var workplaces, striking, participants, applied, duplicates, rejected: Int

    init(workplaces: Int, striking: Int, participants: Int, applied: Int, duplicates: Int, rejected: Int) {
        (self.workplaces, self.striking, self.participants) = (workplaces, striking, participants)
        (self.applied, self.duplicates, self.rejected) = (applied, duplicates, rejected)
    }

    init?(json: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let messages = object["messages"] as? [String: Any],
              let workplaces = object["workplaces"] as? Int, let striking = object["striking"] as? Int,
              let participants = object["participants"] as? Int, let applied = messages["applied"] as? Int,
              let duplicates = messages["duplicates"] as? Int, let rejected = messages["rejected"] as? Int
        else { return nil }
        self.init(workplaces: workplaces, striking: striking, participants: participants,
                  applied: applied, duplicates: duplicates, rejected: rejected)
    }

    var description: String {
        "workplaces \(workplaces), striking \(striking), participants \(participants), applied \(applied), duplicates \(duplicates), rejected \(rejected)"
    }
}

/// A user of the namespace's account files.
private struct Account {
    let name: String
    let uid: UInt32
    let gid: UInt32
}

/// The copies of /etc/passwd and /etc/group the namespace uses.
private struct Accounts {
    let passwd: [[Substring]]
    let group: [[Substring]]

    init(directory: URL) throws {
        func read(_ name: String) throws -> [[Substring]] {
            try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
                .split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false) }
        }
        passwd = try read("passwd")
        group = try read("group")
    }

    func user(_ name: String) throws -> Account {
        let fields = try #require(passwd.first { $0.first == Substring(name) && $0.count > 3 }, "no user \(name)")
        return Account(name: name, uid: try #require(UInt32(fields[2])), gid: try #require(UInt32(fields[3])))
    }

    func gid(_ name: String) throws -> UInt32 {
        let fields = try #require(group.first { $0.first == Substring(name) && $0.count > 2 }, "no group \(name)")
        return try #require(UInt32(fields[2]))
    }
}

/// Commands inside the namespace, as root or as a test user (with the groups the
/// namespace's group file gives it, as after a login).
private struct Namespace {
    let namespace: SystemdNamespace

    func systemctl(_ arguments: [String]) throws -> CommandResult {
        try namespace.run("/bin/systemctl", arguments)
    }

    /// `systemctl show` of the given properties, as a dictionary.
    func show(_ unit: String, _ properties: [String]) throws -> [String: String] {
        let result = try systemctl(["show", unit] + properties.flatMap { ["-p", $0] })
        var values: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }

    func strikectl(_ arguments: [String], as user: Account? = nil) throws -> CommandResult {
        try asUser(user, "/usr/local/bin/strikectl", arguments)
    }

    /// A writer's atomic drop: write tmp/NAME group-readable, then rename it into incoming/.
    func drop(_ content: String, name: String, as user: Account) throws -> CommandResult {
        try asUser(user, "/bin/sh", [
            "-c", #"umask 027 && printf '%s\n' "$1" > "/var/spool/strikecd/tmp/$2" && mv "/var/spool/strikecd/tmp/$2" "/var/spool/strikecd/incoming/$2""#,
            "sh", content, name,
        ])
    }

    private func asUser(_ user: Account?, _ path: String, _ arguments: [String]) throws -> CommandResult {
        guard let user else { return try namespace.run(path, arguments) }
        return try namespace.run("/usr/bin/setpriv", [
            "--reuid=\(user.uid)", "--regid=\(user.gid)", "--init-groups", "--", path,
        ] + arguments)
    }

    /// `journalctl -u UNIT -o json`, one dictionary per entry.
    /// The journal's entries of `unit`, or all of them.
    func journal(_ unit: String?) -> [[String: Any]] {
        guard let result = try? namespace.run("/bin/journalctl", (unit.map { ["-u", $0] } ?? []) + ["-o", "json", "--no-pager", "--all"]) else {
            return []
        }
        return result.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }
}
