import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ProcessWideTests {
    /// The hand-off of strikecd's batches to NNCP, outside the daemon's sandbox:
    /// strikecd-nncp-send@.path, .service and the strikecd-nncp-send script, installed by
    /// scripts/install into a real systemd booted in a namespace, with Debian's nncp and its
    /// user. A batch that appears in /var/lib/strikecd/outbox/gomel is queued by
    /// `nncp-exec gomel strikecd` (as the nncp user) and deleted; carried to a second NNCP
    /// node ("gomel", on the host, its own spool) with nncp-xfer and tossed there, its exec
    /// handler receives it byte for byte. A batch for a node NNCP does not know is kept and
    /// the service fails; a file that is not a batch is left alone.
    @Suite struct NNCPSendEndToEndTests {
        static var isAvailable: Bool {
            SystemdNamespace.isAvailable
                && ["/usr/bin/nncp-cfgnew", "/usr/bin/nncp-exec", "/usr/bin/nncp-xfer", "/usr/bin/nncp-toss"]
                    .allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
        }

        /// Runs in the namespace before systemd starts (see `SystemdNamespace`): the staged
        /// install into a tmpfs /usr/local, /etc/nncp.hjson readable by the nncp user only,
        /// and NNCP's spool and log as Debian's package makes them.
        static let prepare = """
            set -eu
            D="$1"
            [ "$(findmnt -n -o FSTYPE /etc)" = overlay ]
            mount -t tmpfs -o mode=0755 tmpfs /usr/local
            [ "$(findmnt -n -o FSTYPE /usr/local)" = tmpfs ]
            cp -a "$D/stage/usr/local/." /usr/local/
            cp -a "$D/stage/etc/." /etc/
            install -m 0640 -o root -g nncp "$D/minsk.hjson" /etc/nncp.hjson
            install -d -m 0755 -o nncp -g nncp /var/spool/nncp /run/stick
            install -m 0644 -o nncp -g nncp /dev/null /var/log/nncp
            install -d -m 0750 -o strikecd -g strikecd /var/lib/strikecd /var/lib/strikecd/outbox \
                /var/lib/strikecd/outbox/gomel /var/lib/strikecd/outbox/nowhere

            """

        @Test(.enabled(if: isAvailable, "needs root, systemd, unshare, nsenter and Debian's nncp"))
        func batchesAreQueuedWithNNCPAndDeleted() async throws {
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let fm = FileManager.default

            let executable = try #require(try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            let binaries = URL(fileURLWithPath: executable).deletingLastPathComponent().path
            let stage = directory.appendingPathComponent("stage")
            var environment = ProcessInfo.processInfo.environment
            environment["DESTDIR"] = stage.path
            environment["PREFIX"] = "/usr/local"
            environment["SYSCONFDIR"] = "/etc"
            environment["BINDIR_SOURCE"] = binaries
            let install = try run(packageRoot.appendingPathComponent("scripts/install").path, [], environment: environment)
            try #require(install.status == 0, "scripts/install: \(install.stderr)")
            let units = stage.appendingPathComponent("usr/local/lib/systemd/system")
            let service = try String(contentsOf: units.appendingPathComponent("strikecd-nncp-send@.service"), encoding: .utf8)
            #expect(service.contains("\nExecStart=/usr/local/lib/strikecd/strikecd-nncp-send %i\n"))
            for name in ["strikecd-nncp-send@.path", "strikecd-nncp-send@.timer"] {
                #expect(fm.fileExists(atPath: units.appendingPathComponent(name).path), "\(name) not installed")
            }
            #expect(fm.isExecutableFile(atPath: stage.appendingPathComponent("usr/local/lib/strikecd/strikecd-nncp-send").path))

            // Two NNCP nodes that know each other: minsk (this machine's /etc/nncp.hjson,
            // inside the namespace) and gomel (on the host, its own spool, whose handler
            // appends what it receives to a file).
            let received = directory.appendingPathComponent("received")
            try NNCPPair.write(into: directory, gomelHandler: ["/bin/sh", "-c", "cat >> \(received.path)"])

            // Accounts: the host's files, strikecd's sysusers.d, and nncp if the host lacks
            // it (Debian's nncp package makes it with adduser --system).
            try fm.createDirectory(at: directory.appendingPathComponent("etc"), withIntermediateDirectories: true)
            for name in ["passwd", "group", "shadow", "gshadow"] {
                try fm.copyItem(atPath: "/etc/\(name)", toPath: directory.appendingPathComponent("etc/\(name)").path)
            }
            let nncpUser = directory.appendingPathComponent("nncp-user.conf")
            try "u nncp - \"NNCP\" /var/spool/nncp\n".write(to: nncpUser, atomically: false, encoding: .utf8)
            let sysusers = try run("/usr/bin/systemd-sysusers", [
                "--root=\(directory.path)", stage.appendingPathComponent("usr/local/lib/sysusers.d/strikecd.conf").path, nncpUser.path,
            ])
            try #require(sysusers.status == 0, "\(sysusers.stderr)")
            try "".write(to: directory.appendingPathComponent("tmpfiles.conf"), atomically: false, encoding: .utf8)
            try "".write(to: directory.appendingPathComponent("copy.list"), atomically: false, encoding: .utf8)
            try Self.prepare.write(to: directory.appendingPathComponent("prepare.sh"), atomically: false, encoding: .utf8)
            let unitDirectory = directory.appendingPathComponent("units")
            try fm.createDirectory(at: unitDirectory, withIntermediateDirectories: true)
            try """
                [Unit]
                Description=strikecd-nncp-send test
                Requires=systemd-journald.socket
                After=systemd-journald.socket

                """.write(to: unitDirectory.appendingPathComponent("strikecd-test.target"), atomically: false, encoding: .utf8)

            let namespace = try await SystemdNamespace(directory: directory, target: "strikecd-test.target")
            defer { namespace.stop() }
            func systemctl(_ arguments: [String]) throws -> CommandResult { try namespace.run("/bin/systemctl", arguments) }
            func show(_ unit: String, _ property: String) throws -> String {
                try systemctl(["show", unit, "-p", property, "--value"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            /// Written by the strikecd user the way the daemon does: a temporary name, then a rename.
            func exportBatch(_ content: String, peer: String, name: String) throws {
                let result = try namespace.run("/usr/bin/setpriv", [
                    "--reuid=strikecd", "--regid=strikecd", "--init-groups", "--", "/bin/sh", "-c",
                    #"printf '%s' "$1" > "$2/.$3.tmp" && mv "$2/.$3.tmp" "$2/$3""#,
                    "sh", content, "/var/lib/strikecd/outbox/\(peer)", name,
                ])
                try #require(result.status == 0, "export: \(result.stderr)")
            }

            let start = try systemctl(["start", "strikecd-nncp-send@gomel.path"])
            try #require(start.status == 0, "\(start.stderr)")
            #expect(try show("strikecd-nncp-send@gomel.path", "ActiveState") == "active")

            // A file that is not a batch starts a run that leaves it alone.
            let stray = namespace.hostPath("/var/lib/strikecd/outbox/gomel/notes.txt")
            let strayResult = try namespace.run("/usr/bin/setpriv", [
                "--reuid=strikecd", "--regid=strikecd", "--init-groups", "--", "/bin/sh", "-c",
                "echo stray > /var/lib/strikecd/outbox/gomel/notes.txt",
            ])
            try #require(strayResult.status == 0, "\(strayResult.stderr)")
            // Nor a link named like a batch, to a file only root may read: sent, it would hand
            // /etc/shadow to the peer; the strikecd user reads nothing it could not read itself.
            let planted = namespace.hostPath("/var/lib/strikecd/outbox/gomel/batch-minsk-00000000000000ff.jsonl")
            let link = try namespace.run("/usr/bin/setpriv", [
                "--reuid=strikecd", "--regid=strikecd", "--init-groups", "--", "/bin/ln", "-s", "/etc/shadow",
                "/var/lib/strikecd/outbox/gomel/batch-minsk-00000000000000ff.jsonl",
            ])
            try #require(link.status == 0, "\(link.stderr)")

            let batch = #"{"v":1,"origin":"minsk-committee","seq":1}"# + "\n" + #"{"v":1,"origin":"minsk-committee","seq":2}"# + "\n"
            let name = "batch-minsk-0123456789abcdef.jsonl"
            try exportBatch(batch, peer: "gomel", name: name)
            let batchPath = namespace.hostPath("/var/lib/strikecd/outbox/gomel/\(name)")
            let gone = await waitFor(timeout: .seconds(30), every: .milliseconds(100)) { fm.fileExists(atPath: batchPath) ? nil : true }
            let status = { (try? systemctl(["status", "--no-pager", "strikecd-nncp-send@gomel.service"]).stdout) ?? "" }
            #expect(gone == true, "the batch is still in the outbox: \(status())")
            #expect(fm.fileExists(atPath: stray), "a file that is not a batch was deleted")
            #expect((try? fm.destinationOfSymbolicLink(atPath: planted)) == "/etc/shadow", "the planted link was touched")
            // The run that took it ended well, and the path unit waits for the next one
            // (the stray file did not make it loop into its trigger limit).
            let settled = await waitFor(timeout: .seconds(30), every: .milliseconds(100)) { () -> String? in
                let state = try? show("strikecd-nncp-send@gomel.service", "ActiveState")
                return state == "inactive" || state == "failed" ? state : nil
            }
            #expect(settled == "inactive", "\(status())")
            #expect(try show("strikecd-nncp-send@gomel.path", "ActiveState") == "active")
            let log = try namespace.run("/bin/journalctl", ["-u", "strikecd-nncp-send@gomel.service", "-o", "cat", "--no-pager"])
            #expect(log.stdout.contains("queued \(name) for gomel"), "\(log.stdout)")

            // Queued in NNCP's spool, as the nncp user: carried by stick to gomel, tossed
            // there, and gomel's handler got the batch byte for byte.
            let xfer = try namespace.run("/usr/bin/setpriv", [
                "--reuid=nncp", "--regid=nncp", "--init-groups", "--",
                "/usr/bin/nncp-xfer", "-quiet", "-mkdir", "-tx", "-node", "gomel", "/run/stick",
            ])
            try #require(xfer.status == 0, "nncp-xfer -tx: \(xfer.stderr)")
            let gomelConfig = directory.appendingPathComponent("gomel.hjson").path
            let rx = try run("/usr/bin/nncp-xfer", ["-cfg", gomelConfig, "-quiet", "-rx", namespace.hostPath("/run/stick")])
            #expect(rx.status == 0, "nncp-xfer -rx: \(rx.stderr)")
            let toss = try run("/usr/bin/nncp-toss", ["-cfg", gomelConfig, "-quiet"])
            #expect(toss.status == 0, "nncp-toss: \(toss.stderr)")
            #expect((try? String(contentsOf: received, encoding: .utf8)) == batch)

            // A batch for a node that /etc/nncp.hjson does not list: kept, the run fails
            // and says so; the timer would retry it.
            try exportBatch(batch, peer: "nowhere", name: "batch-minsk-fedcba9876543210.jsonl")
            let failed = try systemctl(["start", "strikecd-nncp-send@nowhere.service"])
            #expect(failed.status != 0)
            #expect(try show("strikecd-nncp-send@nowhere.service", "Result") == "exit-code")
            #expect(fm.fileExists(atPath: namespace.hostPath("/var/lib/strikecd/outbox/nowhere/batch-minsk-fedcba9876543210.jsonl")))
            let failedLog = try namespace.run("/bin/journalctl", ["-u", "strikecd-nncp-send@nowhere.service", "-o", "cat", "--no-pager"])
            #expect(failedLog.stdout.contains("kept batch-minsk-fedcba9876543210.jsonl for nowhere"), "\(failedLog.stdout)")

            // The timer is a valid unit in this systemd and schedules a retry.
            let timer = try systemctl(["start", "strikecd-nncp-send@nowhere.timer"])
            #expect(timer.status == 0, "\(timer.stderr)")
            #expect(try show("strikecd-nncp-send@nowhere.timer", "ActiveState") == "active")
        }

        /// For the daemon's own round trip: no outbox made by hand (strikecd makes it), the
        /// nncp user may drop files into the spool, and NNCP's tosser runs as that user.
        static let prepareRoundTrip = """
            set -eu
            D="$1"
            [ "$(findmnt -n -o FSTYPE /etc)" = overlay ]
            mount -t tmpfs -o mode=0755 tmpfs /usr/local
            [ "$(findmnt -n -o FSTYPE /usr/local)" = tmpfs ]
            cp -a "$D/stage/usr/local/." /usr/local/
            cp -a "$D/stage/etc/." /etc/
            install -m 0640 -o root -g nncp "$D/minsk.hjson" /etc/nncp.hjson
            install -d -m 0755 -o nncp -g nncp /var/spool/nncp /run/stick
            install -m 0644 -o nncp -g nncp /dev/null /var/log/nncp

            """

        static let tossUnit = """
            [Unit]
            Description=NNCP tosser (Debian's example unit, with -seen and a short cycle)

            [Service]
            ExecStart=/usr/bin/nncp-toss -noprogress -seen -cycle 1
            Restart=always
            User=nncp
            Group=nncp

            """

        /// The installed strikecd.service, with node and peers set, exports what it applies:
        /// the batch appears in /var/lib/strikecd/outbox/gomel (made by the daemon, inside its
        /// sandbox), strikecd-nncp-send@gomel hands it to NNCP, and gomel's handler receives
        /// the signed message. The other way, a packet from gomel is tossed by nncp-toss as
        /// the nncp user, whose handler `strikecd import` drops it into the spool (the nncp
        /// user is in strikecd-writers), and the daemon applies it and does not send it back.
        @Test(.enabled(if: isAvailable, "needs root, systemd, unshare, nsenter and Debian's nncp"))
        func installedDaemonExportsAndImportsOverNNCP() async throws {
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let fm = FileManager.default

            let executable = try #require(try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            let binaries = URL(fileURLWithPath: executable).deletingLastPathComponent().path
            let stage = directory.appendingPathComponent("stage")
            var environment = ProcessInfo.processInfo.environment
            environment["DESTDIR"] = stage.path
            environment["PREFIX"] = "/usr/local"
            environment["SYSCONFDIR"] = "/etc"
            environment["BINDIR_SOURCE"] = binaries
            let install = try run(packageRoot.appendingPathComponent("scripts/install").path, [], environment: environment)
            try #require(install.status == 0, "scripts/install: \(install.stderr)")

            // Two committees' keys; the node's keyring holds both public halves.
            let keys = directory.appendingPathComponent("keys")
            let keyring = stage.appendingPathComponent("etc/strikecd/keys")
            var signed: [String: String] = [:]
            for (origin, workplace) in [("minsk-committee", "tractor-works"), ("gomel-committee", "gomselmash")] {
                let keygen = try run("\(binaries)/strikectl", ["keygen", origin, "--key-dir", keys.path])
                try #require(keygen.status == 0, "strikectl keygen: \(keygen.stderr)")
                try fm.copyItem(at: keys.appendingPathComponent("\(origin).pub"), to: keyring.appendingPathComponent("\(origin).pub"))
                let file = directory.appendingPathComponent("\(origin).json")
                try #"{"v":1,"origin":"\#(origin)","seq":1,"sent_at":"2020-08-24T09:30:00+03:00","type":"strike.reported","data":{"workplace":"\#(workplace)","status":"strike","participants":700}}"#
                    .write(to: file, atomically: false, encoding: .utf8)
                let sign = try run("\(binaries)/strikectl", ["sign", "--key-dir", keys.path, file.path])
                try #require(sign.status == 0, "strikectl sign: \(sign.stderr)")
                signed[origin] = try String(contentsOf: file, encoding: .utf8)
            }
            let received = directory.appendingPathComponent("received")
            try NNCPPair.write(
                into: directory, gomelHandler: ["/bin/sh", "-c", "cat >> \(received.path)"],
                minskHandler: ["/usr/local/bin/strikecd", "import"]
            )
            // nncp_id: NNCP passes gomel's node id as NNCP_SENDER, never its name.
            let gomelID = try String(contentsOf: directory.appendingPathComponent("gomel.d/self/id"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let configURL = stage.appendingPathComponent("etc/strikecd/strikecd.yaml")
            var config = try String(contentsOf: configURL, encoding: .utf8)
            for (line, replacement) in [("node: none", "node: minsk"),
                                        ("peers: []", "peers:\n  - name: gomel\n    nncp: gomel\n    nncp_id: \(gomelID)\n    send: [\"*\"]")] {
                try #require(config.contains("\n\(line)\n"), "the shipped strikecd.yaml has no '\(line)'")
                config = config.replacingOccurrences(of: "\n\(line)\n", with: "\n\(replacement)\n")
            }
            try config.write(to: configURL, atomically: false, encoding: .utf8)


            try fm.createDirectory(at: directory.appendingPathComponent("etc"), withIntermediateDirectories: true)
            for name in ["passwd", "group", "shadow", "gshadow"] {
                try fm.copyItem(atPath: "/etc/\(name)", toPath: directory.appendingPathComponent("etc/\(name)").path)
            }
            let nncpUser = directory.appendingPathComponent("nncp-user.conf")
            try "u nncp - \"NNCP\" /var/spool/nncp\nm nncp strikecd-writers\n".write(to: nncpUser, atomically: false, encoding: .utf8)
            let sysusers = try run("/usr/bin/systemd-sysusers", [
                "--root=\(directory.path)", stage.appendingPathComponent("usr/local/lib/sysusers.d/strikecd.conf").path, nncpUser.path,
            ])
            try #require(sysusers.status == 0, "\(sysusers.stderr)")
            try fm.copyItem(at: stage.appendingPathComponent("usr/local/lib/tmpfiles.d/strikecd.conf"),
                            to: directory.appendingPathComponent("tmpfiles.conf"))
            try "".write(to: directory.appendingPathComponent("copy.list"), atomically: false, encoding: .utf8)
            try Self.prepareRoundTrip.write(to: directory.appendingPathComponent("prepare.sh"), atomically: false, encoding: .utf8)
            let unitDirectory = directory.appendingPathComponent("units")
            try fm.createDirectory(at: unitDirectory, withIntermediateDirectories: true)
            try """
                [Unit]
                Description=strikecd over NNCP test
                Requires=systemd-journald.socket
                After=systemd-journald.socket

                """.write(to: unitDirectory.appendingPathComponent("strikecd-test.target"), atomically: false, encoding: .utf8)
            try Self.tossUnit.write(to: unitDirectory.appendingPathComponent("nncp-toss.service"), atomically: false, encoding: .utf8)

            let namespace = try await SystemdNamespace(directory: directory, target: "strikecd-test.target")
            defer { namespace.stop() }
            func inside(_ path: String, _ arguments: [String]) throws -> CommandResult { try namespace.run(path, arguments) }
            func asNNCP(_ arguments: [String]) throws -> CommandResult {
                try namespace.run("/usr/bin/setpriv", ["--reuid=nncp", "--regid=nncp", "--init-groups", "--"] + arguments)
            }
            let start = try inside("/bin/systemctl", [
                "start", "strikecd.socket", "strikecd.path", "strikecd-nncp-send@gomel.path", "nncp-toss.service",
            ])
            try #require(start.status == 0, "\(start.stderr)")

            // Out: a report dropped at minsk reaches gomel's handler, signed, over a stick.
            let spool = namespace.hostPath("/var/spool/strikecd")
            try signed["minsk-committee"]!.write(toFile: "\(spool)/tmp/minsk.json", atomically: false, encoding: .utf8)
            try #require(rename("\(spool)/tmp/minsk.json", "\(spool)/incoming/minsk.json") == 0)
            let gomelConfig = directory.appendingPathComponent("gomel.hjson").path
            let stick = namespace.hostPath("/run/stick")
            let delivered = await waitFor(timeout: .seconds(30), every: .milliseconds(200)) { () -> String? in
                _ = try? asNNCP(["/usr/bin/nncp-xfer", "-quiet", "-mkdir", "-tx", "-node", "gomel", "/run/stick"])
                _ = try? run("/usr/bin/nncp-xfer", ["-cfg", gomelConfig, "-quiet", "-rx", stick])
                _ = try? run("/usr/bin/nncp-toss", ["-cfg", gomelConfig, "-quiet"])
                let text = (try? String(contentsOf: received, encoding: .utf8)) ?? ""
                return text.contains(#""origin":"minsk-committee""#) ? text : nil
            }
            let status = {
                (try? inside("/bin/journalctl", ["--no-pager", "-o", "cat", "-u", "strikecd.service", "-u", "strikecd-nncp-send@gomel.service",
                                                 "-u", "strikecd.path", "-u", "strikecd-nncp-send@gomel.path"]).stdout) ?? ""
            }
            let batch = try #require(delivered, "gomel received nothing:\n\(status())")
            #expect(batch.contains(#""sig":""#), "\(batch)")
            #expect(!fm.fileExists(atPath: namespace.hostPath("/var/lib/strikecd/outbox/gomel/batch-minsk-0000000000000000.jsonl")))
            let outbox = (try? fm.contentsOfDirectory(atPath: namespace.hostPath("/var/lib/strikecd/outbox/gomel"))) ?? []
            #expect(!outbox.contains { $0.hasPrefix("batch-") && $0.hasSuffix(".jsonl") }, "left in the outbox: \(outbox)")

            // In: gomel's report, by stick, tossed as the nncp user into minsk's spool.
            let queued = try run("/bin/sh", ["-c", "nncp-exec -cfg \"$1\" -quiet minsk strikecd < \"$2\"", "sh", gomelConfig,
                                              directory.appendingPathComponent("gomel-committee.json").path])
            try #require(queued.status == 0, "nncp-exec at gomel: \(queued.stderr)")
            let tx = try run("/usr/bin/nncp-xfer", ["-cfg", gomelConfig, "-quiet", "-mkdir", "-tx", "-node", "minsk", stick])
            try #require(tx.status == 0, "nncp-xfer -tx at gomel: \(tx.stderr)")
            _ = try inside("/bin/chown", ["-R", "nncp:nncp", "/run/stick"])
            let rx = try asNNCP(["/usr/bin/nncp-xfer", "-quiet", "-rx", "/run/stick"])
            #expect(rx.status == 0, "nncp-xfer -rx at minsk: \(rx.stderr)")
            let applied = await waitFor(timeout: .seconds(30), every: .milliseconds(200)) { () -> String? in
                guard let result = try? inside("/usr/local/bin/strikectl", ["status", "--json"]),
                      result.stdout.contains(#""applied":2"#) else { return nil }
                return result.stdout
            }
            let toss = (try? inside("/bin/journalctl", ["-u", "nncp-toss.service", "-o", "cat", "--no-pager"]).stdout) ?? ""
            #expect(applied != nil, "gomel's report was not applied at minsk; nncp-toss:\n\(toss)\n\(status())")
            // Split horizon, by gomel's nncp_id: once the export has run,
            // gomel's report is not among the copies sent to gomel (minsk's one only).
            let exported = await waitFor(timeout: .seconds(30), every: .milliseconds(200)) { () -> String? in
                guard let peers = try? inside("/usr/local/bin/strikectl", ["peers", "--json"]),
                      peers.stdout.contains(#""waiting":0"#) else { return nil }
                return peers.stdout
            }
            #expect(exported?.contains(#""sent":1,"#) == true, "\(exported ?? "no peers")")
        }
    }
}

/// Two NNCP nodes, minsk and gomel, each with a configuration from nncp-cfgnew that lists
/// the other as its only neighbour (through nncp-cfgdir's one-file-per-field layout).
enum NNCPPair {
    /// Writes minsk.hjson (Debian's spool and log paths, for /etc/nncp.hjson) and gomel.hjson
    /// (spool and log under `directory`; `gomelHandler` is its `strikecd` exec handler for minsk,
    /// `minskHandler` minsk's for gomel).
    static func write(into directory: URL, gomelHandler: [String], minskHandler: [String]? = nil) throws {
        let fm = FileManager.default
        for node in ["minsk", "gomel"] {
            let generated = try run("/usr/bin/nncp-cfgnew", ["-nocomments"])
            try #require(generated.status == 0, "nncp-cfgnew: \(generated.stderr)")
            let hjson = directory.appendingPathComponent("\(node)-new.hjson")
            try generated.stdout.write(to: hjson, atomically: false, encoding: .utf8)
            let dump = try run("/usr/bin/nncp-cfgdir", ["-cfg", hjson.path, "-dump", directory.appendingPathComponent("\(node).d").path])
            try #require(dump.status == 0, "nncp-cfgdir -dump: \(dump.stderr)")
            try fm.removeItem(at: directory.appendingPathComponent("\(node).d/neigh/self/exec"))
        }
        let (spool, log) = (directory.appendingPathComponent("gomel-spool").path, directory.appendingPathComponent("gomel.log").path)
        try fm.createDirectory(atPath: spool, withIntermediateDirectories: true)
        try "/var/spool/nncp\n".write(to: directory.appendingPathComponent("minsk.d/spool"), atomically: false, encoding: .utf8)
        try "/var/log/nncp\n".write(to: directory.appendingPathComponent("minsk.d/log"), atomically: false, encoding: .utf8)
        try "\(spool)\n".write(to: directory.appendingPathComponent("gomel.d/spool"), atomically: false, encoding: .utf8)
        try "\(log)\n".write(to: directory.appendingPathComponent("gomel.d/log"), atomically: false, encoding: .utf8)
        for (node, peer) in [("minsk", "gomel"), ("gomel", "minsk")] {
            let neighbour = directory.appendingPathComponent("\(node).d/neigh/\(peer)")
            try fm.createDirectory(at: neighbour.appendingPathComponent("exec"), withIntermediateDirectories: true)
            for key in ["id", "exchpub", "signpub", "noisepub"] {
                try fm.copyItem(at: directory.appendingPathComponent("\(peer).d/self/\(key)"), to: neighbour.appendingPathComponent(key))
            }
        }
        try (gomelHandler.joined(separator: "\n") + "\n")
            .write(to: directory.appendingPathComponent("gomel.d/neigh/minsk/exec/strikecd"), atomically: false, encoding: .utf8)
        if let minskHandler {
            try (minskHandler.joined(separator: "\n") + "\n")
                .write(to: directory.appendingPathComponent("minsk.d/neigh/gomel/exec/strikecd"), atomically: false, encoding: .utf8)
        }
        for node in ["minsk", "gomel"] {
            let load = try run("/usr/bin/nncp-cfgdir", ["-load", directory.appendingPathComponent("\(node).d").path])
            try #require(load.status == 0, "nncp-cfgdir -load: \(load.stderr)")
            try load.stdout.write(to: directory.appendingPathComponent("\(node).hjson"), atomically: false, encoding: .utf8)
        }
    }
}
