import Foundation
import StrikeCore
import TestSupport
import Testing

/// A daemon on a temporary spool and database, run as the real binary.
final class DaemonFixture: @unchecked Sendable {
    let directory = TemporaryDirectory("strikecd-e2e")
    var spool: String { directory.path + "/spool" }
    var incoming: String { spool + "/incoming" }
    var tmp: String { spool + "/tmp" }
    var quarantine: String { spool + "/quarantine" }
    var database: String { directory.path + "/state.sqlite" }
    var config: String { directory.path + "/strikecd.yaml" }
    var log: String { directory.path + "/daemon.log" }
    private(set) var process: RunningProcess?

    /// `signatures: off` unless the settings say otherwise: these tests are
    /// about the spool and reconciliation of unsigned corpora; the signature
    /// tests (SignedSpoolEndToEndTests) set their own policy and keyring.
    init(settings: String = "grace_period: 1s\nrescan_interval: 2s\n") throws {
        try Self.withSignatures(settings).write(toFile: config, atomically: true, encoding: .utf8)
    }

    static func withSignatures(_ settings: String) -> String {
        settings.contains("signatures:") ? settings : settings + "signatures: off\n"
    }

    func start(extra: [String] = []) throws {
        // A socket of its own unless the test names one: never the default
        // /run/strikecd/socket, which another daemon on the machine may hold.
        let socket = extra.contains("--socket") ? [] : ["--socket", directory.path + "/socket"]
        process = try RunningProcess(
            Binaries.strikecd,
            ["run", "--config", config, "--spool", spool, "--database", database, "--log", "console"] + socket + extra,
            log: log
        )
        let started = process!
        try waitUntil("the daemon to be ready", timeout: 60) {
            if !started.isRunning { throw TimeoutError(description: "the daemon exited early:\n\(started.log)") }
            return logLines().contains { $0.contains(" notice ready: ") }
                && logLines().filter { $0.contains(" notice ready: ") }.count >= readyCount + 1
        }
        readyCount += 1
    }

    private var readyCount = 0

    func logLines() -> [Substring] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
    }

    func kill9() {
        process?.signal(SIGKILL)
        _ = process?.waitForExit(timeout: 10)
        process = nil
    }

    /// SIGTERM, and the exit status.
    func stop() -> Int32? {
        process?.signal(SIGTERM)
        let status = process?.waitForExit(timeout: 30)
        process = nil
        if status != 0 {
            // What the daemon said last, for the failure's report.
            print("daemon exited \(status.map(String.init) ?? "(still running)"); the end of its log:\n" + logLines().suffix(40).joined(separator: "\n"))
        }
        return status
    }

    func names(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    /// The Summary of this database, via `strikecd ingest` with no paths (safe
    /// while the daemon runs).
    func summary() throws -> String {
        try Self.summary(database: database, paths: [])
    }

    static func summary(database: String, paths: [String]) throws -> String {
        let result = try runCommand(Binaries.strikecd, ["ingest", "--quiet", "--signatures", "off", "--database", database] + paths)
        guard result.status == 0 else { throw TimeoutError(description: "ingest failed: \(result.stderr)") }
        return result.stdout.filter { !$0.isWhitespace }
    }
}

/// Drops a file the way a courier (0: tmp/ then rename), rsync (1: a hidden
/// temporary name, then rename) or a plain copy in place (2) would.
func drop(_ file: (name: String, bytes: [UInt8]), way: Int, fixture: DaemonFixture) throws {
    switch way {
    case 0:
        try dropAtomically(file.bytes, name: file.name, tmpDir: fixture.tmp, dir: fixture.incoming)
    case 1:
        let hidden = fixture.incoming + "/.\(file.name).Qz9xY1"
        try Data(file.bytes).write(to: URL(fileURLWithPath: hidden))
        guard rename(hidden, fixture.incoming + "/" + file.name) == 0 else { throw TimeoutError(description: "rename failed") }
    default:
        let fd = open(fixture.incoming + "/" + file.name, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw TimeoutError(description: "cannot create \(file.name)") }
        _ = file.bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}

@Suite(.serialized) struct SpoolEndToEndTests {
    /// Every way a file can land in the spool (docs/design.md, "The spool"), then the same
    /// Summary as a one-shot ingest of the same copies.
    @Test func filesDroppedInEveryWay() throws {
        let fixture = try DaemonFixture(settings: "grace_period: 2s\nrescan_interval: 1s\nmax_file_size: 1MiB\n")
        try fixture.start()
        var rng = SplitMix(seed: 42)
        let corpus = Corpus(seed: 42, messages: 120)
        let layout = CorpusFiles(copies: corpus.copies, rng: &rng)
        let reference = fixture.directory.path + "/reference"
        try FileManager.default.createDirectory(atPath: reference, withIntermediateDirectories: true)
        try layout.write(to: reference)

        for (index, file) in layout.files.enumerated() {
            switch index % 4 {
            case 0:
                // The recommended way: write in tmp/, then rename into incoming/.
                try dropAtomically(file.bytes, name: file.name, tmpDir: fixture.tmp, dir: fixture.incoming)
            case 1:
                // rsync: a hidden temporary name in place, renamed at the end.
                let hidden = fixture.incoming + "/.\(file.name).Ab12Cd"
                try Data(file.bytes).write(to: URL(fileURLWithPath: hidden))
                #expect(rename(hidden, fixture.incoming + "/" + file.name) == 0)
            case 2:
                // Syncthing's temporary name.
                let temporary = fixture.incoming + "/.syncthing.\(file.name).tmp"
                try Data(file.bytes).write(to: URL(fileURLWithPath: temporary))
                #expect(rename(temporary, fixture.incoming + "/" + file.name) == 0)
            default:
                // A plain copy into place, written slowly in two chunks.
                let path = fixture.incoming + "/" + file.name
                let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
                let half = file.bytes.count / 2
                _ = file.bytes.withUnsafeBytes { write(fd, $0.baseAddress, half) }
                if index % 16 == 3 { usleep(300_000) }  // a slow writer, not synchronisation
                _ = file.bytes.withUnsafeBytes { write(fd, $0.baseAddress! + half, $0.count - half) }
                close(fd)
            }
        }
        // Temporary names must be left alone, untouched, however long they stay.
        let pending = ".pending.json.XyZ123"
        try Data("{\"half\":".utf8).write(to: URL(fileURLWithPath: fixture.incoming + "/" + pending))
        for leftover in ["~syncthing~x.json.tmp", "upload.part", "notes.json~", "draft.tmp"] {
            try Data("x".utf8).write(to: URL(fileURLWithPath: fixture.incoming + "/" + leftover))
        }
        // Not copies at all: set aside unread, with a reason.
        let outside = fixture.directory.path + "/secret.json"
        try Data("outside the spool".utf8).write(to: URL(fileURLWithPath: outside))
        #expect(symlink(outside, fixture.incoming + "/link.json") == 0)
        #expect(mkfifo(fixture.incoming + "/pipe.json", 0o644) == 0)
        try FileManager.default.createDirectory(atPath: fixture.incoming + "/subdir", withIntermediateDirectories: false)
        try Data(layout.files[0].bytes).write(to: URL(fileURLWithPath: fixture.incoming + "/report.sync-conflict-20200824-101010-ABCDEFG.json"))
        // Over max_file_size (1 MiB): quarantined unread, counted as rejected.
        try Data(repeating: 0x20, count: 2 << 20).write(to: URL(fileURLWithPath: fixture.incoming + "/huge.json"))
        // Over 64 KiB but under the file limit: read, rejected as too large.
        let big = Array("{\"v\":1,\"pad\":\"".utf8) + Array(repeating: UInt8(ascii: "a"), count: 70_000) + Array("\"}".utf8)
        try Data(big).write(to: URL(fileURLWithPath: fixture.incoming + "/big.json"))
        try Data(big).write(to: URL(fileURLWithPath: reference + "/big.json"))

        let expectedLeft = ([pending, "~syncthing~x.json.tmp", "upload.part", "notes.json~", "draft.tmp", "subdir"]).sorted()
        try waitUntil("incoming/ to hold only what must be left alone", timeout: 60) {
            fixture.names(fixture.incoming) == expectedLeft
        }
        // The symlink's target is untouched, and nothing followed it.
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "outside the spool")

        let quarantined = fixture.names(fixture.quarantine)
        for name in ["link.json", "pipe.json", "report.sync-conflict-20200824-101010-ABCDEFG.json", "huge.json", "big.json"] {
            #expect(quarantined.contains(name), "\(name) in quarantine")
            #expect(quarantined.contains("." + name + ".reason"), ".\(name).reason in quarantine")
        }
        // Every quarantined copy has a reason with all its fields.
        for name in quarantined where !name.hasPrefix(".") {
            let data = try Data(contentsOf: URL(fileURLWithPath: fixture.quarantine + "/." + name + ".reason"))
            let reason = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            for key in ["code", "detail", "line", "sha256", "size", "time"] {
                #expect(reason.keys.contains(key), "\(name).reason has \(key)")
            }
        }
        let hugeReason = try String(contentsOfFile: fixture.quarantine + "/.huge.json.reason", encoding: .utf8)
        #expect(hugeReason.contains("\"too-large\""))

        // The huge file is not in the reference (ingest's default limit is
        // higher), so add its one rejected copy to the expectation by hand.
        var expected = try DaemonFixture.summary(database: fixture.directory.path + "/reference.sqlite", paths: [reference])
        let rejected = try #require(expected.firstMatch(of: /"rejected":(\d+)/))
        expected.replaceSubrange(rejected.range, with: "\"rejected\":\(Int(rejected.1)! + 1)")
        #expect(try fixture.summary() == expected)
        #expect(fixture.stop() == 0)
    }

    /// kill -9 at random instants during a large drop, restart, and the
    /// Summary equals a one-shot ingest of the same copies: nothing lost,
    /// nothing counted twice (docs/design.md, "The spool").
    @Test func killNineAtRandomLosesNothingAndCountsNothingTwice() throws {
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\nbatch_size: 40\n")
        var rng = SplitMix(seed: 2020)
        let corpus = Corpus(seed: 2020, messages: 6000)
        #expect(corpus.copies.count > 10_000)
        let layout = CorpusFiles(copies: corpus.copies, rng: &rng)
        let reference = fixture.directory.path + "/reference"
        try FileManager.default.createDirectory(atPath: reference, withIntermediateDirectories: true)
        try layout.write(to: reference)

        // Half before the first start, the rest while the daemon is killed and restarted.
        for dir in [fixture.incoming, fixture.tmp] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let cut = layout.files.count / 2
        for file in layout.files[..<cut] {
            try dropAtomically(file.bytes, name: file.name, tmpDir: fixture.tmp, dir: fixture.incoming)
        }
        var next = cut
        var kills = 0
        for round in 0..<20 {
            try fixture.start()
            // Drop more while it works.
            let more = min(layout.files.count, next + Int.random(in: 100...300, using: &rng))
            for (index, file) in layout.files[next..<more].enumerated() {
                try drop(file, way: index % 3, fixture: fixture)
            }
            next = more
            usleep(UInt32.random(in: 20_000...250_000, using: &rng))  // a random instant, not synchronisation
            if round < 19 {
                fixture.kill9()
                kills += 1
            }
        }
        for file in layout.files[next...] {
            try dropAtomically(file.bytes, name: file.name, tmpDir: fixture.tmp, dir: fixture.incoming)
        }
        try waitUntil("incoming/ to be empty", timeout: 120) { fixture.names(fixture.incoming).isEmpty }
        #expect(kills == 19)
        let expected = try DaemonFixture.summary(database: fixture.directory.path + "/reference.sqlite", paths: [reference])
        #expect(try fixture.summary() == expected)
        // Every quarantined copy has its reason beside it.
        let quarantined = fixture.names(fixture.quarantine)
        for name in quarantined where !name.hasPrefix(".") {
            #expect(quarantined.contains("." + name + ".reason"), "\(name) has a reason")
        }
        #expect(!quarantined.isEmpty)
        #expect(!quarantined.contains { $0.hasPrefix(".tmp-") }, "no temporary file is left in quarantine/")
        #expect(fixture.stop() == 0)
    }

    /// A full disk keeps the files in incoming/ and retries; it never
    /// quarantines a good message. Freeing space and reloading finishes the job.
    @Test func fullDiskKeepsFilesAndRetries() throws {
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\n")
        let disk = fixture.directory.path + "/disk"
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        guard try runCommand("/bin/mount", ["-t", "tmpfs", "-o", "size=640k,mode=0750", "tmpfs", disk]).status == 0 else {
            Issue.record("cannot mount a tmpfs here (needs root)")
            return
        }
        defer { _ = try? runCommand("/bin/umount", ["-l", disk]) }
        try fixture.start(extra: ["--database", disk + "/state.sqlite"])

        var rng = SplitMix(seed: 9)
        let copies = (0..<4000).map { index -> [UInt8] in
            let text = "{\"v\":1,\"origin\":\"o\(index % 7)\",\"seq\":\(index / 7 + 1),\"sent_at\":\"2020-08-24T09:00:00Z\",\"type\":\"workplace.reported\",\"data\":{\"workplace\":\"w\(index)\",\"name\":\"Workplace number \(index) with a long name to fill the disk\"}}"
            return Array(text.utf8)
        }
        let layout = CorpusFiles(copies: copies, rng: &rng)
        for file in layout.files {
            try dropAtomically(file.bytes, name: file.name, tmpDir: fixture.tmp, dir: fixture.incoming)
        }
        try waitUntil("the daemon to report a full disk and retry", timeout: 60) {
            fixture.logLines().contains { $0.contains("will be retried in") }
        }
        #expect(!fixture.names(fixture.incoming).isEmpty, "files wait in incoming/")
        #expect(fixture.names(fixture.quarantine).isEmpty, "no good message is quarantined")
        #expect(fixture.process?.isRunning == true)

        #expect(try runCommand("/bin/mount", ["-o", "remount,size=64m", disk]).status == 0)
        fixture.process?.signal(SIGHUP)
        try waitUntil("incoming/ to be empty after space was freed", timeout: 90) { fixture.names(fixture.incoming).isEmpty }
        let summary = try DaemonFixture.summary(database: disk + "/state.sqlite", paths: [])
        #expect(summary.contains("\"workplaces\":4000"))
        #expect(summary.contains("\"applied\":4000"))
        #expect(fixture.names(fixture.quarantine).isEmpty)
        #expect(fixture.stop() == 0)
    }

    /// A database locked by another process: files wait, then apply.
    @Test func lockedDatabaseKeepsFilesAndRetries() throws {
        let fixture = try DaemonFixture()
        try fixture.start()
        // Hold an exclusive lock from another process until told to release.
        let release = fixture.directory.path + "/release"
        let locker = try RunningProcess("/usr/bin/python3", ["-c", """
            import sqlite3, os, time
            db = sqlite3.connect('\(fixture.database)', isolation_level=None, timeout=0)
            db.execute('BEGIN EXCLUSIVE')
            print('locked', flush=True)
            while not os.path.exists('\(release)'):
                time.sleep(0.05)
            db.execute('ROLLBACK')
            """], log: fixture.directory.path + "/locker.log")
        try waitUntil("the lock to be held") { locker.log.contains("locked") }
        let message = "{\"v\":1,\"origin\":\"mtz\",\"seq\":1,\"sent_at\":\"2020-08-24T09:00:00Z\",\"type\":\"strike.reported\",\"data\":{\"workplace\":\"mtz\",\"status\":\"strike\",\"participants\":3000}}"
        try dropAtomically(Array(message.utf8), name: "m.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("the daemon to report the lock and retry", timeout: 60) {
            fixture.logLines().contains { $0.contains("will be retried in") }
        }
        #expect(fixture.names(fixture.incoming) == ["m.json"])
        #expect(fixture.names(fixture.quarantine).isEmpty)
        _ = FileManager.default.createFile(atPath: release, contents: nil)
        #expect(locker.waitForExit() == 0)
        try waitUntil("the file to be applied once the lock is gone", timeout: 60) { fixture.names(fixture.incoming).isEmpty }
        #expect(try fixture.summary().contains("\"participants\":3000"))
        #expect(fixture.stop() == 0)
    }

    /// SIGHUP reloads (a broken file is refused and the old settings kept);
    /// SIGTERM exits 0, and leaves neither its socket nor the database's WAL
    /// behind: the database is one file that holds everything.
    @Test func signalsReloadAndStop() throws {
        let fixture = try DaemonFixture()
        try fixture.start()
        try "grace_period: 3s\nrescan_interval: 5s\nsignatures: off\n".write(toFile: fixture.config, atomically: true, encoding: .utf8)
        fixture.process?.signal(SIGHUP)
        try waitUntil("the reload to be logged") { fixture.logLines().contains { $0.contains("configuration reloaded") } }
        try "grace_perod: 3s\n".write(toFile: fixture.config, atomically: true, encoding: .utf8)
        fixture.process?.signal(SIGHUP)
        try waitUntil("the broken reload to be refused") { fixture.logLines().contains { $0.contains("not reloaded") } }
        #expect(fixture.logLines().contains { $0.contains("grace_perod") && $0.contains("did you mean \"grace_period\"") })
        #expect(fixture.process?.isRunning == true)
        // Still working after both reloads.
        let message = "{\"v\":1,\"origin\":\"mtz\",\"seq\":1,\"sent_at\":\"2020-08-24T09:00:00Z\",\"type\":\"council.formed\",\"data\":{\"council\":\"city\",\"level\":\"local\"}}"
        try dropAtomically(Array(message.utf8), name: "c.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("the file to be applied") { fixture.names(fixture.incoming).isEmpty }
        #expect(FileManager.default.fileExists(atPath: fixture.database + "-wal"))
        #expect(FileManager.default.fileExists(atPath: fixture.directory.path + "/socket"))
        #expect(fixture.stop() == 0)
        #expect(fixture.logLines().contains { $0.hasSuffix(" notice stopped") })
        #expect(fixture.names(fixture.directory.path).filter { $0.hasPrefix("state.sqlite") || $0 == "socket" } == ["state.sqlite"])
        #expect(try fixture.summary().contains("\"applied\":1"))
    }

    /// SIGHUP applies a new `log_level` at once, unless `--log-level` fixed
    /// it; settings that need a restart are named.
    @Test func reloadAppliesTheLogLevel() throws {
        let fixture = try DaemonFixture()
        let socket = fixture.directory.path + "/socket"
        try fixture.start(extra: ["--socket", socket])
        func status() throws { #expect(try runCommand(Binaries.strikectl, ["status", "--socket", socket]).status == 0) }
        func debugCalls() -> Int { fixture.logLines().filter { $0.contains(" debug call") }.count }
        try status()
        #expect(debugCalls() == 0)

        try "grace_period: 1s\nsignatures: off\nlog_level: debug\nmax_connections: 9\n"
            .write(toFile: fixture.config, atomically: true, encoding: .utf8)
        fixture.process?.signal(SIGHUP)
        try waitUntil("the reload to be logged") { fixture.logLines().contains { $0.contains("configuration reloaded") } }
        #expect(fixture.logLines().contains { $0.contains("log level changed from info to debug") })
        #expect(fixture.logLines().contains { $0.contains("max_connections changed from 256 to 9; restart strikecd to use it") })
        try status()
        try waitUntil("a call logged at debug") { debugCalls() > 0 }

        try "grace_period: 1s\nsignatures: off\nlog_level: warning\n".write(toFile: fixture.config, atomically: true, encoding: .utf8)
        fixture.process?.signal(SIGHUP)
        try waitUntil("the second reload") { fixture.logLines().contains { $0.contains("log level changed from debug to warning") } }
        let before = debugCalls()
        try status()
        #expect(fixture.stop() == 0)
        #expect(debugCalls() == before)
    }

    /// A drop that is done says so once, with its counts; each duplicate
    /// copy is named at debug level.
    @Test func aFinishedDropIsLoggedWithItsCounts() throws {
        let fixture = try DaemonFixture()
        try fixture.start(extra: ["--log-level", "debug"])
        let message = "{\"v\":1,\"origin\":\"mtz\",\"seq\":1,\"sent_at\":\"2020-08-24T09:00:00Z\",\"type\":\"council.formed\",\"data\":{\"council\":\"city\",\"level\":\"local\"}}"
        try dropAtomically(Array((message + "\n" + message + "\n").utf8), name: "twice.jsonl", tmpDir: fixture.tmp, dir: fixture.incoming)
        try dropAtomically(Array(message.utf8), name: "again.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try dropAtomically(Array("{\"v\":1}".utf8), name: "bad.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("the spool to be quiet") { fixture.logLines().contains { $0.contains(" info the spool is quiet: ") } }
        let quiet = fixture.logLines().filter { $0.contains(" info the spool is quiet: ") }
        #expect(quiet.count == 1)
        #expect(quiet.first?.contains("applied 1, duplicates 2, rejected 1 of 4 copies since it last was") == true, "\(quiet)")
        let duplicates = fixture.logLines().filter { $0.contains(" debug duplicate ") }
        #expect(duplicates.count == 2, "\(duplicates)")
        #expect(duplicates.contains { $0.contains("duplicate twice.jsonl:2: seen before") } || duplicates.contains { $0.contains("duplicate again.json: seen before") })
        #expect(fixture.stop() == 0)
    }

    /// `--log-level` wins over `log_level`, on reload too.
    @Test func logLevelOptionOutlivesAReload() throws {
        let fixture = try DaemonFixture()
        try fixture.start(extra: ["--log-level", "debug"])
        try "grace_period: 1s\nsignatures: off\nlog_level: error\n".write(toFile: fixture.config, atomically: true, encoding: .utf8)
        fixture.process?.signal(SIGHUP)
        try waitUntil("the reload to be logged") { fixture.logLines().contains { $0.contains("configuration reloaded") } }
        #expect(!fixture.logLines().contains { $0.contains("log level changed") })
        #expect(fixture.stop() == 0)
    }

    /// A typo in the configuration is an error naming the file, line and key.
    @Test func configTypoIsNamed() throws {
        let directory = TemporaryDirectory()
        let config = directory.path + "/strikecd.yaml"
        try "spool: /tmp/x\nbatch_size: 10\ngrace_perod: 5s\n".write(toFile: config, atomically: true, encoding: .utf8)
        let result = try runCommand(Binaries.strikecd, ["check-config", "--config", config])
        #expect(result.status == 78)
        #expect(result.stderr.contains("\(config):3: grace_perod: unknown setting (did you mean \"grace_period\"?)"))
        try "batch_size: lots\n".write(toFile: config, atomically: true, encoding: .utf8)
        let bad = try runCommand(Binaries.strikecd, ["run", "--config", config])
        #expect(bad.status == 78)
        #expect(bad.stderr.contains("\(config):1: batch_size: must be a whole number"))
        try "batch_size: 10\n".write(toFile: config, atomically: true, encoding: .utf8)
        let good = try runCommand(Binaries.strikecd, ["check-config", "--config", config])
        #expect(good.status == 0)
        #expect(good.stdout.contains("batch_size: 10"))
    }
}
