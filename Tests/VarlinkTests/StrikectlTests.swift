import Foundation
import StrikeCore
import StrikeStore
import Synchronization
import Testing
import VarlinkProtocol

/// strikectl, the real binary, against a server over the fixture state.
@Suite struct StrikectlTests {
    static let binary = packageRoot + "/.build/debug/strikectl"

    init() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build strikectl first: swift build")
    }

    static func run(_ arguments: [String], socket: String? = nil, environment: [String: String] = [:]) async throws -> ProcessResult {
        var env = ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent"]
        if let socket { env["STRIKECD_SOCKET"] = socket }
        env.merge(environment) { $1 }
        let final = env
        return try await offPool { try runProcess(Self.binary, arguments, timeout: 60, environment: final) }
    }

    @Test func statusJSONIsTheSummary() async throws {
        let server = try await TestServer()
        let result = try await Self.run(["status", "--json"], socket: server.socket)
        #expect(result.status == 0, "\(result.stderr)")
        let printed = try JSONReader.read(Array(result.stdout.utf8))
        #expect(JSONWriter.bytes(printed) == JSONWriter.bytes(try server.store.summary().json))
        // And the same members in the same order as Summary() and `strikecd ingest`.
        #expect(result.stdout == JSONWriter.string(try server.store.summary().json, style: .compact) + "\n")
        try await server.stop()
    }

    /// `status --digest`: the digest StateDigest returns, as a last row and
    /// as the `digest` member after the Summary's in --json.
    @Test func statusDigest() async throws {
        let server = try await TestServer()
        let digest = try await server.store.stateDigest().sha256
        let table = try await Self.run(["status", "--digest"], socket: server.socket)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.hasSuffix("\ndigest      \(digest)\n"), "\(table.stdout)")
        let json = try await Self.run(["status", "--json", "--digest"], socket: server.socket)
        let summary = JSONWriter.string(try server.store.summary().json, style: .compact)
        #expect(json.stdout == summary.dropLast() + ",\"digest\":\"\(digest)\"}\n")
        try await server.stop()
    }

    @Test func tablesForPeople() async throws {
        let server = try await TestServer()
        let status = try await Self.run(["status"], socket: server.socket)
        #expect(status.stdout == """
            workplaces  1 described (by a workplace.reported)
            striking    1 (300 participants), whether described or only named
            delegates   1 active, 0 recalled, 0 resigned
                        0 detained, 0 missing, 0 exiled
            mandates    1 active, 0 recalled, 0 resigned
            demands     1 economic, 0 democratic
            messages    10 applied, 0 duplicates, 1 rejected
            unresolved  1 named but not described (see `strikectl unresolved`)

            """)
        // 2020-08-27T06:00:00Z: three days after the fixture's reports.
        let workplaces = try await Self.run(["workplaces", "--striking"], socket: server.socket, environment: ["STRIKECTL_NOW": "1598508000"])
        #expect(workplaces.stdout == """
            ID   NAME                 TOWN   REGION  STATUS  PARTICIPANTS  LAST REPORT
            mtz  Minsk Tractor Works  minsk  minsk   strike  300           2020-08-24 06:00Z (3 d ago)

            """)
        let actions = try await Self.run(["actions", "general-strike"], socket: server.socket)
        #expect(actions.stdout == """
            WORKPLACE  PARTICIPANTS
            azot       -
            mtz        300

            """)
        let workplace = try await Self.run(["workplace", "mtz"], socket: server.socket)
        #expect(workplace.stdout.contains("name          Minsk Tractor Works"), "\(workplace.stdout)")
        #expect(workplace.stdout.contains("DEMAND  ADOPTED  OUTCOME  TEXT\nwages   yes      won      Restore the wage cuts"), "\(workplace.stdout)")
        let empty = try await Self.run(["councils", "--limit", "5"], socket: server.socket)
        #expect(empty.stdout.contains("city  City strike council  local  -     1"), "\(empty.stdout)")
        let none = try await Self.run(["delegates", "--status", "missing"], socket: server.socket)
        #expect(none.status == 0 && none.stdout.isEmpty && none.stderr == "no delegates\n")
        try await server.stop()
    }

    @Test func listsArePagedThroughAutomatically() async throws {
        let copies = (1...1234).map { n in
            message("w", Int64(n), "workplace.reported", ["workplace": .string("w\(n)")])
        }
        let server = try await TestServer(copies: copies)
        let all = try await Self.run(["workplaces", "--json"], socket: server.socket)
        let lines = all.stdout.split(separator: "\n")
        #expect(lines.count == 1234)
        #expect(Set(lines).count == 1234)
        let some = try await Self.run(["workplaces", "--json", "--limit", "1001"], socket: server.socket)
        #expect(some.stdout.split(separator: "\n").count == 1001)
        try await server.stop()
    }

    @Test func exitStatusesSayWhatHappened() async throws {
        let server = try await TestServer(mode: 0o666)
        let missing = try await Self.run(["status"], socket: server.directory.path + "/nothing-here")
        #expect(missing.status == 69)
        #expect(missing.stderr == "strikectl: strikecd is not running (no socket at \(server.directory.path)/nothing-here): start it with `systemctl start strikecd.socket`\n")
        let notFound = try await Self.run(["workplace", "nowhere"], socket: server.socket)
        #expect(notFound.status == 1)
        #expect(notFound.stderr.contains("no workplace \"nowhere\""))
        let usage = try await Self.run(["workplace", "Not A Slug"], socket: server.socket)
        #expect(usage.status == 2)
        let unknown = try await Self.run(["frobnicate"], socket: server.socket)
        #expect(unknown.status == 2)
        let help = try await Self.run(["--help"])
        #expect(help.status == 0 && help.stdout.contains("Exit status"))

        // As nobody (not in group strikecd): 77, with the fix.
        let denied = try await offPool {
            try runProcess("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Self.binary, "status",
                                                "--socket", server.socket], timeout: 60)
        }
        #expect(denied.status == 77)
        #expect(denied.stderr.contains("permission denied: your user is not in group strikecd (ask an administrator: `usermod -aG strikecd nobody`"),
                "\(denied.stderr)")
        let deniedAdmin = try await offPool {
            try runProcess("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Self.binary, "rescan",
                                                "--socket", server.socket], timeout: 60)
        }
        #expect(deniedAdmin.status == 77 && deniedAdmin.stderr.contains("group strikecd-admin"), "\(deniedAdmin.stderr)")
        try await server.stop()
        let stopped = try await Self.run(["status"], socket: server.socket)
        #expect(stopped.status == 69)
    }

    static func makeSpool(_ directory: TemporaryDirectory) throws -> String {
        let spool = directory.path + "/spool"
        for sub in ["tmp", "incoming", "quarantine"] {
            try FileManager.default.createDirectory(atPath: spool + "/" + sub, withIntermediateDirectories: true)
        }
        return spool
    }

    @Test func submitDropsFilesAtomicallyIntoTheSpool() async throws {
        let directory = TemporaryDirectory()
        let spool = try Self.makeSpool(directory)
        let good = directory.path + "/report.jsonl"
        let bytes = message("mtz", 1, "strike.reported", ["workplace": "mtz", "status": "strike"]) + [0x0A]
            + message("mtz", 2, "strike.reported", ["workplace": "mtz", "status": "working"]) + [0x0A]
        try Data(bytes).write(to: URL(fileURLWithPath: good))
        let result = try await Self.run(["submit", "--spool", spool, good])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("note: 2 messages are not signed"), "\(result.stderr)")
        let incoming = try FileManager.default.contentsOfDirectory(atPath: spool + "/incoming")
        #expect(incoming.count == 1 && incoming[0].hasSuffix("-report.jsonl") && !incoming[0].hasPrefix("."))
        #expect(try Data(contentsOf: URL(fileURLWithPath: spool + "/incoming/" + incoming[0])) == Data(bytes))
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool + "/tmp").isEmpty)

        let bad = directory.path + "/bad.json"
        try Data(message("mtz", 3, "strike.reported", ["workplace": "mtz", "status": "holiday"])).write(to: URL(fileURLWithPath: bad))
        let refused = try await Self.run(["submit", "--spool", spool, bad], environment: ["STRIKECD_SPOOL": "/nonexistent"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("bad-value") && refused.stderr.contains("nothing was dropped"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool + "/incoming").count == 1)
        let forced = try await Self.run(["submit", "--force", bad], environment: ["STRIKECD_SPOOL": spool])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool + "/incoming").count == 2)

        let nowhere = try await Self.run(["submit", "--spool", directory.path + "/no-spool", good])
        #expect(nowhere.status == 1 && nowhere.stderr.contains("is strikecd installed?"), "\(nowhere.stderr)")
    }

    /// A name the daemon ignores (`*.tmp`, `*.part`) or sets aside unread (a
    /// sync conflict copy) was dropped and reported as a success, and then
    /// waited in incoming/ for ever.
    @Test(arguments: ["draft.tmp", "report.jsonl.part", "report.sync-conflict-20200824-101010-ABCDEFG.json"])
    func submitRefusesNamesTheDaemonNeverReads(name: String) async throws {
        let directory = TemporaryDirectory()
        let spool = try Self.makeSpool(directory)
        let good = directory.path + "/good.json"
        try Data(message("mtz", 1, "strike.reported", ["workplace": "mtz", "status": "strike"])).write(to: URL(fileURLWithPath: good))
        let ignored = directory.path + "/" + name
        try Data(message("mtz", 2, "strike.reported", ["workplace": "mtz", "status": "working"])).write(to: URL(fileURLWithPath: ignored))
        for force in [false, true] {
            let refused = try await Self.run(["submit", "--spool", spool, good, ignored] + (force ? ["--force"] : []))
            #expect(refused.status == 2, "\(refused.stderr)")
            #expect(refused.stderr.contains("\(ignored): "), "\(refused.stderr)")
            #expect(refused.stderr.contains("never reads") || refused.stderr.contains("sets aside unread"), "\(refused.stderr)")
            #expect(refused.stderr.contains("nothing was dropped"), "\(refused.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: spool + "/incoming").isEmpty)
        }
        let renamed = directory.path + "/draft.json"
        #expect(rename(ignored, renamed) == 0)
        let dropped = try await Self.run(["submit", "--spool", spool, good, renamed])
        #expect(dropped.status == 0, "\(dropped.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool + "/incoming").count == 2)
    }

    @Test func submitOverTheSocketPrintsEachResult() async throws {
        let server = try await TestServer()
        let file = server.directory.path + "/batch.jsonl"
        let bytes = message("bmz", 1, "strike.reported", ["workplace": "bmz", "status": "strike", "participants": 20]) + [0x0A]
            + message("bmz", 1, "strike.reported", ["workplace": "bmz", "status": "strike", "participants": 20]) + [0x0A]
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let result = try await Self.run(["submit", "--socket-submit", file], socket: server.socket)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\(file):1  bmz     1    applied"), "\(result.stdout)")
        #expect(result.stdout.contains("\(file):2  bmz     1    duplicate"), "\(result.stdout)")
        #expect(try server.store.summary().striking == 2)
        try await server.stop()
    }

    @Test func newNumbersAnOriginsMessages() async throws {
        let directory = TemporaryDirectory()
        let state = directory.path + "/state/seq.json"
        let spool = try Self.makeSpool(directory)
        var seqs: [Int64] = []
        for _ in 0..<3 {
            let result = try await Self.run(["new", "delegate.elected", "--origin", "mtz", "--state", state, "--delegate", "rook",
                                             "--workplace", "mtz", "--council", "city", "--for", "40", "--against", "3"])
            #expect(result.status == 0, "\(result.stderr)")
            let reading = MessageReader.read(Array(result.stdout.dropLast().utf8), policy: ValidationPolicy(now: Int64(Date().timeIntervalSince1970)))
            let parsed = try #require(reading.message)
            #expect(parsed.type == .delegateElected && parsed.sentAt.text.hasSuffix("Z"))
            seqs.append(parsed.seq)
        }
        #expect(seqs == [1, 2, 3])
        // A message that would be invalid uses no seq.
        let invalid = try await Self.run(["new", "delegate.elected", "--origin", "mtz", "--state", state, "--delegate", "rook",
                                          "--workplace", "mtz", "--council", "city", "--for", "3", "--against", "40"])
        #expect(invalid.status == 2 && invalid.stderr.contains("not-carried"))
        let dropped = try await Self.run(["new", "strike.reported", "--origin", "mtz", "--state", state, "--workplace", "mtz",
                                          "--status", "go-slow", "--drop", "--spool", spool])
        #expect(dropped.status == 0, "\(dropped.stderr)")
        let incoming = try FileManager.default.contentsOfDirectory(atPath: spool + "/incoming")
        #expect(incoming.count == 1 && incoming[0].hasSuffix("-mtz-4.json"))
        #expect(try Self.seqs(state) == ["mtz": 4])
        let other = try await Self.run(["new", "council.formed", "--origin", "city", "--state", state, "--council", "city",
                                        "--level", "local", "--output", directory.path + "/city-1.json"])
        #expect(other.status == 0 && other.stdout.isEmpty)
        #expect(other.stderr == "wrote city #1 → \(directory.path)/city-1.json\n", "\(other.stderr)")
        #expect(try Self.seqs(state) == ["city": 1, "mtz": 4])
    }

    /// The seq state file's seqs: `{"ORIGIN": {"seq": N, "sent_at": …}}`.
    static func seqs(_ path: String) throws -> [String: Int64] {
        guard case .object(let object) = try JSONReader.read(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) else { return [:] }
        var seqs: [String: Int64] = [:]
        for member in object.members {
            if case .object(let entry) = member.value, case .number(let number)? = entry["seq"] { seqs[member.key] = number.int64 }
        }
        return seqs
    }

    @Test func watchPrintsEachChange() async throws {
        let server = try await TestServer()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["watch", "--json", "--socket", server.socket]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        let lines = LineCollector(pipe.fileHandleForReading)
        try process.run()
        let pid = process.processIdentifier
        defer {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        let first = try await offPool { try lines.next(timeout: 30) }
        #expect(first.hasPrefix(#"{"summary":{"workplaces":1"#))
        server.feed.publish([Change(origin: "mtz", seq: 9, type: "strike.reported", subject: "workplace/mtz", outcome: .applied, code: nil)])
        let second = try await offPool { try lines.next(timeout: 30) }
        #expect(second == #"{"change":{"origin":"mtz","seq":9,"type":"strike.reported","subject":"workplace/mtz","outcome":"applied"}}"#)
        try await server.stop()
    }
}

/// Lines of a child's output, read on a thread, handed out with a deadline.
final class LineCollector: Sendable {
    private let state = Mutex<(lines: [String], partial: [UInt8], ended: Bool)>(([], [], false))
    private let available = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread { [self] in
            while true {
                let data = handle.availableData
                let complete: [String] = state.withLock { state in
                    if data.isEmpty { state.ended = true; return [] }
                    state.partial += data
                    var found: [String] = []
                    while let newline = state.partial.firstIndex(of: 0x0A) {
                        found.append(String(decoding: state.partial[..<newline], as: UTF8.self))
                        state.partial.removeSubrange(...newline)
                    }
                    state.lines += found
                    return found
                }
                for _ in complete { available.signal() }
                if data.isEmpty { available.signal(); return }
            }
        }.start()
    }

    struct Ended: Error {}

    func next(timeout: Double) throws -> String {
        guard available.wait(timeout: .now() + timeout) == .success else { throw DeadlineExceeded(seconds: timeout) }
        guard let line = state.withLock({ $0.lines.isEmpty ? nil : $0.lines.removeFirst() }) else { throw Ended() }
        return line
    }
}
