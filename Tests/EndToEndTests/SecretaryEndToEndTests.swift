import Foundation
import StrikeCore
import TestSupport
import Testing

// A factory committee's secretary and a city coordinator, as the real
// binaries meet them (issue 15): at a terminal where the behaviour depends on
// one (`script` gives the command a pseudo-terminal), through pipes elsewhere.

/// A secretary's laptop: a working directory, a seq state and a key directory.
struct Secretary {
    let directory = TemporaryDirectory("strikecd-secretary")
    var home: String { directory.path }
    var state: String { home + "/seq.json" }
    var keyDir: String { home + "/keys" }

    /// strikectl through pipes, in the secretary's directory.
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runIn(home, Binaries.strikectl, arguments, environment: environment)
    }

    /// strikectl at a terminal: stdout and stderr are the pseudo-terminal
    /// `script` makes, so the output is both, with CR LF line ends.
    func terminal(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let command = ([Binaries.strikectl] + arguments).map(shellQuoted).joined(separator: " ")
        let result = try runIn(home, "/usr/bin/script", ["-qec", command, "/dev/null"], environment: environment)
        return (result.status, result.stdout.replacingOccurrences(of: "\r\n", with: "\n"))
    }

    func file(_ name: String) -> String? {
        try? String(contentsOfFile: home + "/" + name, encoding: .utf8)
    }
}

func shellQuoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }

/// Runs a command in `directory`, with a clean environment plus `environment`.
func runIn(_ directory: String, _ executable: String, _ arguments: [String],
           environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let clean = ["PATH": "/usr/bin:/bin", "HOME": directory, "SHELL": "/bin/sh", "TERM": "dumb"]
    return try runCommand(executable, arguments, directory: directory, environment: clean.merging(environment) { $1 })
}

@Suite(.serialized) struct SecretaryEndToEndTests {
    /// Item 1: at a terminal `new` writes ORIGIN-SEQ.json and says so; into a
    /// pipe it prints the message and says so on stderr; a number never sent
    /// can be given back; the node then sees no gap.
    @Test func newWritesAFileAtATerminalAndSaysWhat() throws {
        let secretary = Secretary()
        let report = ["new", "workplace.reported", "--origin", "granit-plant", "--workplace", "granit-plant", "--state", secretary.state]
        let first = try secretary.terminal(report)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("wrote granit-plant #1 → granit-plant-1.json"), "\(first.output)")
        #expect(!first.output.contains("{\"v\":1"), "the message is not printed on the screen: \(first.output)")
        #expect(secretary.file("granit-plant-1.json")?.contains(#""seq":1"#) == true)

        let piped = try secretary.run(report)
        #expect(piped.status == 0 && piped.stdout.hasPrefix(#"{"v":1,"origin":"granit-plant","seq":2,"#), "\(piped.stdout)")
        #expect(piped.stderr == "wrote granit-plant #2 → standard output\n", "\(piped.stderr)")

        let output = try secretary.run(report + ["-o", "report.json"])
        #expect(output.stderr == "wrote granit-plant #3 → report.json\n" && output.stdout.isEmpty, "\(output.stderr)")

        // #4 written at the terminal, then never sent: given back, and taken again.
        #expect(try secretary.terminal(report).output.contains("wrote granit-plant #4 → granit-plant-4.json"))
        let early = try secretary.run(["seq", "granit-plant", "--give-back", "3", "--state", secretary.state])
        #expect(early.status == 1 && early.stderr.contains("only granit-plant's last number, #4, can be given back"), "\(early.stderr)")
        let back = try secretary.run(["seq", "granit-plant", "--give-back", "4", "--state", secretary.state])
        #expect(back.status == 0 && back.stderr.contains("gave back granit-plant #4"), "\(back.stderr)")
        try FileManager.default.removeItem(atPath: secretary.home + "/granit-plant-4.json")
        let again = try secretary.terminal(report + ["--name", "Granit"])
        #expect(again.output.contains("wrote granit-plant #4 → granit-plant-4.json"), "\(again.output)")
        // A file that exists already is never overwritten, and uses no number.
        try FileManager.default.moveItem(atPath: secretary.home + "/granit-plant-4.json", toPath: secretary.home + "/kept.json")
        try "x".write(toFile: secretary.home + "/granit-plant-5.json", atomically: true, encoding: .utf8)
        let clash = try secretary.terminal(report)
        #expect(clash.status == 1 && clash.output.contains("no seq was used"), "\(clash.output)")
        try FileManager.default.removeItem(atPath: secretary.home + "/granit-plant-5.json")
        let listed = try secretary.run(["seq", "--state", secretary.state])
        #expect(listed.stdout.contains("granit-plant  4"), "\(listed.stdout)")

        // The node gets #1 to #4 and sees no gap.
        let fixture = try DaemonFixture()
        try fixture.start()
        let socket = fixture.directory.path + "/socket"
        try Data(piped.stdout.utf8).write(to: URL(fileURLWithPath: secretary.home + "/piped.json"))
        let files = ["granit-plant-1.json", "piped.json", "report.json", "kept.json"].map { secretary.home + "/" + $0 }
        let submitted = try runCommand(Binaries.strikectl, ["submit", "--spool", fixture.spool] + files)
        #expect(submitted.status == 0, "\(submitted.stderr)")
        try waitUntil("incoming/ to be empty", timeout: 60) { fixture.names(fixture.incoming).isEmpty }
        let gaps = try runCommand(Binaries.strikectl, ["gaps", "--socket", socket])
        #expect(gaps.status == 0 && gaps.stdout.isEmpty && gaps.stderr.hasPrefix("no gaps"), "\(gaps.stdout)\(gaps.stderr)")
        #expect(try fixture.summary().contains("\"applied\":4"))
        #expect(fixture.stop() == 0)
    }

    /// Item 2: a signed report edited by hand is not signed again (the node
    /// would reject both versions of its seq); `new --corrects` writes the
    /// correction, and the node keeps the corrected figure.
    @Test func aChangedSignedMessageIsCorrectedNotResigned() throws {
        let secretary = Secretary()
        let keyDir = ["--key-dir", secretary.keyDir]
        #expect(try secretary.run(["keygen", "granit-plant"] + keyDir).status == 0)
        let report = ["new", "strike.reported", "--origin", "granit-plant", "--workplace", "granit-plant", "--status", "strike",
                      "--state", secretary.state] + keyDir
        #expect(try secretary.run(report + ["--participants", "1800", "-o", "r1.json"]).status == 0)
        let sent = try #require(secretary.file("r1.json"))
        try sent.replacingOccurrences(of: "1800", with: "800").write(toFile: secretary.home + "/r1.json", atomically: true, encoding: .utf8)
        let resign = try secretary.run(["sign", "r1.json", "--state", secretary.state] + keyDir)
        #expect(resign.status == 1)
        #expect(resign.stderr.contains("r1.json: granit-plant #1 no longer matches its sig"), "\(resign.stderr)")
        #expect(resign.stderr.contains("strikectl new strike.reported --origin granit-plant --corrects 1"), "\(resign.stderr)")
        #expect(secretary.file("r1.json") == sent.replacingOccurrences(of: "1800", with: "800"), "the file is left as it was")
        // A message signed and unchanged is signed again to the same bytes.
        #expect(try secretary.run(report + ["--participants", "50", "-o", "other.json"]).status == 0)
        let other = try #require(secretary.file("other.json"))
        #expect(try secretary.run(["sign", "other.json", "--state", secretary.state] + keyDir).status == 0)
        #expect(secretary.file("other.json") == other)
        try sent.write(toFile: secretary.home + "/r1.json", atomically: true, encoding: .utf8)

        let early = try secretary.run(report + ["--participants", "800", "--corrects", "7"])
        #expect(early.status == 2 && early.stderr.contains("granit-plant has not written #7 yet"), "\(early.stderr)")
        let correction = try secretary.run(report + ["--participants", "800", "--corrects", "1", "-o", "r3.json"])
        #expect(correction.status == 0, "\(correction.stderr)")
        #expect(correction.stderr.contains("wrote granit-plant #3 → r3.json\n#3 corrects #1"), "\(correction.stderr)")
        let help = try secretary.run(["new", "--help"])
        #expect(help.stdout.contains("--corrects 3"), "the help shows how to correct")

        let keyring = secretary.home + "/keyring"
        try FileManager.default.createDirectory(atPath: keyring, withIntermediateDirectories: true)
        chmod(keyring, 0o755)
        try FileManager.default.copyItem(atPath: secretary.keyDir + "/granit-plant.pub", toPath: keyring + "/granit-plant.pub")
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\nsignatures: required\nkeyring: \(keyring)\n")
        try fixture.start()
        let submitted = try runCommand(Binaries.strikectl, ["submit", "--spool", fixture.spool] + ["r3.json", "r1.json", "other.json"].map { secretary.home + "/" + $0 })
        #expect(submitted.status == 0, "\(submitted.stderr)")
        try waitUntil("incoming/ to be empty", timeout: 60) { fixture.names(fixture.incoming).isEmpty }
        let workplace = try runCommand(Binaries.strikectl, ["workplace", "granit-plant", "--json", "--socket", fixture.directory.path + "/socket"])
        #expect(workplace.stdout.contains(#""participants":800"#), "\(workplace.stdout) \(workplace.stderr)")
        #expect(try fixture.summary().contains("\"applied\":3,\"duplicates\":0,\"rejected\":0"))
        #expect(fixture.stop() == 0)
    }

    /// Item 3: `sign` raises the origin's counter, so `new` never writes a
    /// second #9 after a hand-written #9 was signed.
    @Test func signAdvancesTheCounter() throws {
        let secretary = Secretary()
        let keyDir = ["--key-dir", secretary.keyDir]
        #expect(try secretary.run(["keygen", "granit-plant"] + keyDir).status == 0)
        try #"{"v":1,"origin":"granit-plant","seq":9,"sent_at":"2026-01-05T09:00:00+03:00","type":"strike.reported","data":{"workplace":"granit-plant","status":"strike"}}"#
            .write(toFile: secretary.home + "/by-hand.json", atomically: true, encoding: .utf8)
        let signed = try secretary.run(["sign", "by-hand.json", "--state", secretary.state] + keyDir)
        #expect(signed.status == 0, "\(signed.stderr)")
        let next = try secretary.run(["new", "strike.reported", "--origin", "granit-plant", "--workplace", "granit-plant", "--status", "working",
                                      "--state", secretary.state] + keyDir)
        #expect(next.stdout.contains(#""seq":10"#) && next.stderr.hasPrefix("wrote granit-plant #10"), "\(next.stdout) \(next.stderr)")
    }

    /// Item 7: every missing option at once; an id that is not a slug gets
    /// its lower-case, hyphenated (and Latin) form suggested.
    @Test func errorsListEverythingAndSuggestSlugs() throws {
        let secretary = Secretary()
        let missing = try secretary.run(["new", "delegate.elected", "--origin", "granit-plant", "--state", secretary.state])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("delegate.elected needs these 4 options: --delegate, --workplace or --from-council, --council, --for/--against[/--abstain]"), "\(missing.stderr)")
        let spaced = try secretary.run(["new", "workplace.reported", "--origin", "granit-plant", "--workplace", "Granit Plant", "--state", secretary.state])
        #expect(spaced.status == 2 && spaced.stderr.contains(#"--workplace "Granit Plant" is not an id"#), "\(spaced.stderr)")
        #expect(spaced.stderr.contains(#"did you mean "granit-plant"?"#), "\(spaced.stderr)")
        let cyrillic = try secretary.run(["new", "workplace.reported", "--origin", "Гранит_Завод", "--workplace", "g", "--state", secretary.state])
        #expect(cyrillic.stderr.contains(#"did you mean "granit-zavod"?"#), "\(cyrillic.stderr)")
        let query = try secretary.run(["gaps", "--origin", "Granit.Plant"])
        #expect(query.status == 2 && query.stderr.contains(#"did you mean "granit-plant"?"#), "\(query.stderr)")
        #expect(!FileManager.default.fileExists(atPath: secretary.state), "no number was used")
    }

    /// Item 6: `new` refuses to date a message before the origin's previous
    /// one, warns when the clock is before strikectl was built, and says how
    /// to fix it; `strikecd check` flags a stick that goes back in time.
    @Test func clocksThatGoBackAreCaught() throws {
        let secretary = Secretary()
        let report = ["new", "strike.reported", "--origin", "granit-plant", "--workplace", "granit-plant", "--status", "strike",
                      "--state", secretary.state]
        #expect(try secretary.run(report + ["-o", "r1.json"]).status == 0)
        // The battery went flat: the clock says 2000.
        let reset = try secretary.run(report + ["-o", "r2.json"], environment: ["STRIKECTL_NOW": "946684800"])
        #expect(reset.status == 2, "\(reset.stderr)")
        #expect(reset.stderr.contains("this computer's clock says 2000-01-01T00:00:00Z, before this strikectl was built"), "\(reset.stderr)")
        #expect(reset.stderr.contains("sent_at 2000-01-01T00:00:00Z is before that of granit-plant's previous message, #1"), "\(reset.stderr)")
        #expect(reset.stderr.contains("timedatectl set-time") && reset.stderr.contains("no seq was used"), "\(reset.stderr)")
        let early = try secretary.run(report + ["--sent-at", "2020-01-01T00:00:00Z", "-o", "r2.json"])
        #expect(early.status == 2 && early.stderr.contains("--sent-at is too early"), "\(early.stderr)")
        #expect(!FileManager.default.fileExists(atPath: secretary.home + "/r2.json"))
        #expect(try secretary.run(report + ["-o", "r2.json"]).stderr.hasPrefix("wrote granit-plant #2"))

        // A stick from a laptop whose clock went back between #2 and #3.
        let stick = secretary.home + "/stick"
        try FileManager.default.createDirectory(atPath: stick, withIntermediateDirectories: true)
        let lines = [(1, "2026-03-01T09:00:00+03:00"), (2, "2026-03-02T09:00:00+03:00"), (3, "2000-01-01T00:05:00Z")].map { seq, time in
            #"{"v":1,"origin":"mtz","seq":\#(seq),"sent_at":"\#(time)","type":"strike.reported","data":{"workplace":"mtz","status":"strike"}}"#
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: stick + "/mtz.jsonl", atomically: true, encoding: .utf8)
        let check = try runCommand(Binaries.strikecd, ["check", "--signatures", "off", stick])
        #expect(check.status == 0, "valid, only flagged: \(check.stdout)")
        #expect(check.stdout.contains("\(stick)/mtz.jsonl:3: back in time: mtz #3 is dated 2000-01-01T00:05:00Z, before #2 (2026-03-02T09:00:00+03:00"), "\(check.stdout)")
        #expect(check.stdout.contains("all valid; 1 goes back in time"), "\(check.stdout)")
    }

    /// Item 4: the secretary checks a stick with her own keys: her messages
    /// verified, another origin's "not verified here", a changed one a bad
    /// signature, and her numbers against her counter; never advice to move
    /// a secret key.
    @Test func aSecretaryChecksAStick() throws {
        let secretary = Secretary()
        let other = Secretary()
        let keyDir = ["--key-dir", secretary.keyDir]
        #expect(try secretary.run(["keygen", "granit-plant"] + keyDir).status == 0)
        #expect(try other.run(["keygen", "mtz", "--key-dir", other.keyDir]).status == 0)
        let stick = secretary.home + "/usb"
        try FileManager.default.createDirectory(atPath: stick + "/reports", withIntermediateDirectories: true)
        for seq in 1...5 {
            let target = seq == 3 || seq == 5 ? "kept-\(seq).json" : "usb/reports/\(seq).json"
            let made = try secretary.run(["new", "strike.reported", "--origin", "granit-plant", "--workplace", "granit-plant", "--status", "strike",
                                          "--participants", "\(seq * 100)", "--state", secretary.state, "-o", target] + keyDir)
            #expect(made.status == 0, "\(made.stderr)")
        }
        let theirs = try other.run(["new", "strike.reported", "--origin", "mtz", "--workplace", "mtz", "--status", "strike",
                                    "--state", other.state, "--key-dir", other.keyDir, "-o", stick + "/mtz-1.json"])
        #expect(theirs.status == 0, "\(theirs.stderr)")

        let check = try secretary.run(["check", stick, "--state", secretary.state] + keyDir)
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        #expect(check.stdout.contains("mtz: not verified here (no key for mtz)"), "\(check.stdout)")
        #expect(check.stdout.contains("granit-plant: #1-#2, #4; missing #3; this computer wrote up to #5: #5 is not here"), "\(check.stdout)")
        #expect(check.stdout.contains("checked 4 messages in 4 files: all valid, numbers missing for 1 origin (above), 1 origin not verified here"), "\(check.stdout)")
        #expect(!check.stdout.contains("invalid") && !check.stdout.contains("requeue") && !check.stdout.contains("move"), "\(check.stdout)")

        // A report changed on the stick after it was signed.
        let path = stick + "/reports/4.json"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "400", with: "4000").write(toFile: path, atomically: true, encoding: .utf8)
        let changed = try secretary.run(["check", stick, "--state", secretary.state] + keyDir)
        #expect(changed.status == 1)
        #expect(changed.stdout.contains("\(path): bad signature: granit-plant #4 does not match granit-plant's key on this computer"), "\(changed.stdout)")

        // strikecd's own check pointed at her key directory: her secret key
        // is named as such, never to be moved.
        let daemonCheck = try runCommand(Binaries.strikecd, ["check", "--keyring", secretary.keyDir, stick])
        #expect(daemonCheck.status == 78, "\(daemonCheck.stderr)")
        #expect(daemonCheck.stderr.contains("granit-plant.key: a secret key, not a keyring file"), "\(daemonCheck.stderr)")
        #expect(!daemonCheck.stderr.contains("move"), "\(daemonCheck.stderr)")
        // And with no key for an origin it says so, not "invalid".
        let empty = secretary.home + "/empty-keyring"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        chmod(empty, 0o755)
        let unknown = try runCommand(Binaries.strikecd, ["check", "--keyring", empty, stick + "/mtz-1.json"])
        #expect(unknown.stdout.contains("not verified here (no key for mtz in the keyring)"), "\(unknown.stdout)")
    }

    /// Item 8: the coordinator requeues by what `strikectl rejected` shows
    /// (SOURCE file:line, ID), by origin and by reason; a name that is not in
    /// quarantine is answered with the configured quarantine's real path.
    @Test func requeueByWhatRejectedShows() throws {
        let keys = try Keys(origins: ["granit-plant", "mtz", "zavod"], inKeyring: ["granit-plant"])
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\nsignatures: required\nkeyring: \(keys.keyring)\n")
        try fixture.start()
        let socket = ["--socket", fixture.directory.path + "/socket"]
        let scratch = keys.directory.path
        func signed(_ origin: String, _ name: String) throws -> String {
            String(decoding: try keys.new(["strike.reported", "--origin", origin, "--workplace", origin, "--status", "strike"], to: scratch + "/" + name), as: UTF8.self)
        }
        let brick = try signed("granit-plant", "g1.json") + (try signed("mtz", "m1.json"))
        try dropAtomically(Array(brick.utf8), name: "brick.jsonl", tmpDir: fixture.tmp, dir: fixture.incoming)
        for (origin, name) in [("zavod", "zavod-1.json"), ("zavod", "zavod-2.json"), ("mtz", "mtz-2.json")] {
            try dropAtomically(Array(try signed(origin, name).utf8), name: name, tmpDir: fixture.tmp, dir: fixture.incoming)
        }
        try waitUntil("incoming/ to be empty", timeout: 60) { fixture.names(fixture.incoming).isEmpty }
        let rejected = try runCommand(Binaries.strikectl, ["rejected", "--json"] + socket)
        let items = rejected.stdout.split(separator: "\n").compactMap { try? JSONReader.read(Array($0.utf8)).objectValue }
        #expect(items.count == 4, "\(rejected.stdout)")
        func text(_ item: JSONObject, _ key: String) -> String? {
            if case .string(let value)? = item[key] { return value }
            return nil
        }
        #expect(items.contains { text($0, "source") == "brick.jsonl:2" }, "\(rejected.stdout)")
        let zavod1 = try #require(items.first { text($0, "source") == "zavod-1.json" }.flatMap { text($0, "hash") })
        let zavod1ID = String(zavod1.prefix(12))

        let missing = try runCommand(Binaries.strikectl, ["requeue", "nosuch.json"] + socket)
        #expect(missing.status == 1 && missing.stderr.contains("no file \"nosuch.json\" in \(fixture.quarantine)"), "\(missing.stderr)")
        #expect(!missing.stderr.contains("/var/spool"), "\(missing.stderr)")

        try keys.trust("mtz")
        try keys.trust("zavod")
        fixture.process?.signal(SIGHUP)
        try waitUntil("the reload") { fixture.logLines().contains { $0.contains("configuration reloaded") && $0.contains("3 keys of 3 origins") } }
        let bySource = try runCommand(Binaries.strikectl, ["requeue", "brick.jsonl:2"] + socket)
        #expect(bySource.status == 0 && bySource.stdout.contains("(brick.jsonl:2) is back in incoming/"), "\(bySource.stdout) \(bySource.stderr)")
        let byID = try runCommand(Binaries.strikectl, ["requeue", zavod1ID] + socket)
        #expect(byID.status == 0 && byID.stdout.contains("\(zavod1ID) (zavod-1.json) is back in incoming/"), "\(byID.stdout) \(byID.stderr)")
        let byOrigin = try runCommand(Binaries.strikectl, ["requeue", "--origin", "mtz"] + socket)
        #expect(byOrigin.status == 0 && byOrigin.stdout.contains("(mtz-2.json) is back"), "\(byOrigin.stdout) \(byOrigin.stderr)")
        let byReason = try runCommand(Binaries.strikectl, ["requeue", "--reason", "unknown-origin"] + socket)
        #expect(byReason.status == 0 && byReason.stdout.contains("(zavod-2.json) is back"), "\(byReason.stdout) \(byReason.stderr)")
        try waitUntil("everything to be applied", timeout: 60) {
            try fixture.names(fixture.incoming).isEmpty && fixture.summary().contains("\"applied\":5")
        }
        #expect(try fixture.summary().contains("\"rejected\":0"), "the old rejections no longer count")
        let none = try runCommand(Binaries.strikectl, ["requeue", "--origin", "granit-plant"] + socket)
        #expect(none.status == 1 && none.stderr.contains("nothing rejected matches --origin granit-plant"), "\(none.stderr)")
        #expect(fixture.stop() == 0)
    }

    /// Item 9: the keyring names its origins, warns about a key filed under
    /// another origin's name, and the daemon warns when every message of an
    /// origin fails its signature.
    @Test func theKeyringExplainsItself() throws {
        let keys = try Keys(origins: ["granit-plant", "mtz"], inKeyring: ["mtz"])
        try FileManager.default.copyItem(atPath: keys.keyDir + "/granit-plant.pub", toPath: keys.keyring + "/granit.pub")
        let config = keys.directory.path + "/strikecd.yaml"
        try "signatures: required\nkeyring: \(keys.keyring)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let checked = try runCommand(Binaries.strikecd, ["check-config", "--config", config])
        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(checked.stderr.contains("2 keys of 2 origins: granit, mtz"), "\(checked.stderr)")
        #expect(checked.stderr.contains("granit.pub:2: the key is marked as granit-plant's, but this file gives it to granit"), "\(checked.stderr)")

        // mtz's key in the keyring is an old one: every mtz message fails.
        let old = try Keys(origins: ["mtz"])
        try FileManager.default.removeItem(atPath: keys.keyring + "/granit.pub")
        try FileManager.default.removeItem(atPath: keys.keyring + "/mtz.pub")
        try FileManager.default.copyItem(atPath: old.keyDir + "/mtz.pub", toPath: keys.keyring + "/mtz.pub")
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\nsignatures: required\nkeyring: \(keys.keyring)\n")
        try fixture.start()
        #expect(fixture.logLines().contains { $0.contains("keyring \(keys.keyring) (signatures required): 1 key of 1 origin: mtz") }, "\(fixture.logLines())")
        let bytes = try keys.new(["strike.reported", "--origin", "mtz", "--workplace", "mtz", "--status", "strike"], to: keys.directory.path + "/m.json")
        try dropAtomically(bytes, name: "m.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("the warning", timeout: 60) {
            fixture.logLines().contains { $0.contains("every message of mtz so far (1) failed its signature: the keyring's key for mtz may be wrong") }
        }
        #expect(fixture.stop() == 0)
    }

    /// Item 10: workplaces and delegates say when they were last reported,
    /// and how long ago; `status` says what `striking` counts.
    @Test func thePictureSaysWhen() throws {
        let fixture = try DaemonFixture()
        try fixture.start()
        let socket = ["--socket", fixture.directory.path + "/socket"]
        let messages = [
            #"{"v":1,"origin":"granit-plant","seq":1,"sent_at":"2026-03-01T09:00:00+03:00","type":"workplace.reported","data":{"workplace":"granit-plant","name":"Granit"}}"#,
            #"{"v":1,"origin":"granit-plant","seq":2,"sent_at":"2026-03-02T09:00:00+03:00","type":"strike.reported","data":{"workplace":"granit-plant","status":"strike","participants":800}}"#,
            #"{"v":1,"origin":"granit-plant","seq":3,"sent_at":"2026-03-02T10:00:00+03:00","type":"strike.reported","data":{"workplace":"depot","status":"strike"}}"#,
            #"{"v":1,"origin":"granit-plant","seq":4,"sent_at":"2026-03-01T12:00:00+03:00","type":"delegate.elected","data":{"delegate":"rook","workplace":"granit-plant","council":"city","votes":{"for":40,"against":3}}}"#,
            #"{"v":1,"origin":"granit-plant","seq":5,"sent_at":"2026-03-01T13:00:00+03:00","type":"delegate.status","data":{"delegate":"rook","status":"active","note":"phone taken: use the second contact"}}"#,
        ]
        try dropAtomically(Array((messages.joined(separator: "\n") + "\n").utf8), name: "granit.jsonl", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("incoming/ to be empty", timeout: 60) { fixture.names(fixture.incoming).isEmpty }
        let now = ["STRIKECTL_NOW": "\(1_772_668_800)"]  // 2026-03-05T00:00:00Z
        let workplace = try runIn(fixture.directory.path, Binaries.strikectl, ["workplace", "granit-plant"] + socket, environment: now)
        #expect(workplace.stdout.contains("last report   2026-03-02 06:00Z (2 d ago)"), "\(workplace.stdout)")
        let list = try runIn(fixture.directory.path, Binaries.strikectl, ["workplaces"] + socket, environment: now)
        #expect(list.stdout.contains("LAST REPORT") && list.stdout.contains("2026-03-02 07:00Z (2 d ago)"), "\(list.stdout)")
        let delegates = try runIn(fixture.directory.path, Binaries.strikectl, ["delegates"] + socket, environment: now)
        #expect(delegates.stdout.contains("rook  workplace:granit-plant  city     active   active  free    2026-03-01 10:00Z (3 d ago)"), "\(delegates.stdout)")
        let delegate = try runIn(fixture.directory.path, Binaries.strikectl, ["delegate", "rook"] + socket, environment: now)
        #expect(delegate.stdout.contains("last report  2026-03-01 10:00Z (3 d ago)"), "\(delegate.stdout)")
        #expect(delegate.stdout.contains("note         phone taken: use the second contact"), "\(delegate.stdout)")
        #expect(!fixture.logLines().contains { $0.contains("phone taken") }, "never in the log")
        let nobody = try runCommand(Binaries.strikectl, ["delegate", "hawk"] + socket)
        #expect(nobody.status == 1 && nobody.stderr.contains("no delegate \"hawk\": no message elects, recalls or reports on it"), "\(nobody.stderr)")
        let json = try runCommand(Binaries.strikectl, ["workplace", "granit-plant", "--json"] + socket)
        #expect(json.stdout.contains(#""reported_at":"2026-03-02T06:00:00Z""#), "\(json.stdout)")
        let status = try runCommand(Binaries.strikectl, ["status"] + socket)
        #expect(status.stdout.contains("workplaces  1 described (by a workplace.reported)"), "\(status.stdout)")
        #expect(status.stdout.contains("striking    2 (800 participants), whether described or only named"), "\(status.stdout)")
        #expect(status.stdout.contains("unresolved  2 named but not described"), "depot and the council city: \(status.stdout)")
        #expect(fixture.stop() == 0)
    }

    /// Item 11: tables fit COLUMNS, or the terminal's width, cutting with
    /// "…"; --wide shows every cell whole.
    @Test func tablesFitTheTerminal() throws {
        let fixture = try DaemonFixture()
        try fixture.start()
        let socket = fixture.directory.path + "/socket"
        let long = #"{"v":1,"origin":"granit-plant","seq":1,"sent_at":"2026-03-01T09:00:00+03:00","type":"strike.reported","data":{"workplace":"granit-plant","status":"on-a-very-long-holiday-that-nobody-has-heard-of-before"}}"#
        try dropAtomically(Array(long.utf8), name: "a-rather-long-file-name-from-a-courier.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("incoming/ to be empty", timeout: 60) { fixture.names(fixture.incoming).isEmpty }
        let wide = try runIn(fixture.directory.path, Binaries.strikectl, ["rejected", "--socket", socket, "--wide"], environment: ["COLUMNS": "64"])
        let widest = wide.stdout.split(separator: "\n").map(\.count).max() ?? 0
        #expect(widest > 100, "\(wide.stdout)")
        let narrow = try runIn(fixture.directory.path, Binaries.strikectl, ["rejected", "--socket", socket], environment: ["COLUMNS": "64"])
        #expect(narrow.stdout.split(separator: "\n").allSatisfy { $0.count <= 64 }, "\(narrow.stdout)")
        #expect(narrow.stdout.contains("…"), "\(narrow.stdout)")
        let command = "stty cols 72; " + [Binaries.strikectl, "rejected", "--socket", socket].map(shellQuoted).joined(separator: " ")
        let terminal = try runIn(fixture.directory.path, "/usr/bin/script", ["-qec", command, "/dev/null"])
        let lines = terminal.stdout.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n")
        #expect(lines.count == 2 && lines.allSatisfy { $0.count <= 72 } && lines.contains { $0.count > 60 }, "\(terminal.stdout)")
        #expect(fixture.stop() == 0)
    }

    /// Item 5: a names file from the node (`strikectl names`) makes `new` and
    /// `check` warn about guessed ids, with the near ones.
    @Test func guessedNamesAreCaught() throws {
        let fixture = try DaemonFixture()
        try fixture.start()
        let known = [
            #"{"v":1,"origin":"city","seq":1,"sent_at":"2026-03-01T09:00:00+03:00","type":"council.formed","data":{"council":"city-strike-council","level":"local"}}"#,
            #"{"v":1,"origin":"city","seq":2,"sent_at":"2026-03-01T09:00:00+03:00","type":"action.called","data":{"action":"general-strike-48h","kind":"general-strike","starts_at":"2026-03-10T00:00:00+03:00"}}"#,
        ]
        try dropAtomically(Array((known.joined(separator: "\n") + "\n").utf8), name: "city.jsonl", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("incoming/ to be empty", timeout: 60) { fixture.names(fixture.incoming).isEmpty }
        let names = try runCommand(Binaries.strikectl, ["names", "--socket", fixture.directory.path + "/socket"])
        #expect(names.stdout.contains("council city-strike-council\naction general-strike-48h"), "\(names.stdout)")
        let secretary = Secretary()
        let file = secretary.home + "/names"
        try names.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        let joined = try secretary.run(["new", "action.joined", "--origin", "granit-plant", "--action", "general-strike", "--workplace", "granit-plant",
                                        "--state", secretary.state, "--names", file, "-o", "j.json"])
        #expect(joined.status == 0)
        #expect(joined.stderr.contains(#"the action "general-strike" is not in the names file"#) && joined.stderr.contains(#"did you mean "general-strike-48h"?"#), "\(joined.stderr)")
        let elected = try secretary.run(["new", "delegate.elected", "--origin", "granit-plant", "--delegate", "rook", "--workplace", "granit-plant",
                                         "--council", "city-council", "--for", "40", "--against", "3", "--state", secretary.state, "--names", file, "-o", "e.json"])
        #expect(elected.stderr.contains(#"did you mean "city-strike-council"?"#), "\(elected.stderr)")
        let check = try secretary.run(["check", "j.json", "e.json", "--names", file, "--state", secretary.state])
        #expect(check.stdout.contains(#"j.json: warning: the action "general-strike" is not in the names file"#), "\(check.stdout)")
        #expect(fixture.stop() == 0)
    }

    /// Item 8: when the same message later applies (signed, after its
    /// unsigned copy was refused), the old rejection no longer counts: it is
    /// a duplicate; a copy changed after signing is another message, and
    /// stays rejected.
    @Test func aLaterGoodCopyClearsItsRejection() throws {
        let keys = try Keys(origins: ["granit-plant"])
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\nsignatures: required\nkeyring: \(keys.keyring)\n")
        try fixture.start()
        let socket = ["--socket", fixture.directory.path + "/socket"]
        let scratch = keys.directory.path
        let unsigned = #"{"v":1,"origin":"granit-plant","seq":1,"sent_at":"2026-03-01T09:00:00+03:00","type":"strike.reported","data":{"workplace":"granit-plant","status":"strike","participants":800}}"#
        try unsigned.write(toFile: scratch + "/signed.json", atomically: true, encoding: .utf8)
        let sign = try runCommand(Binaries.strikectl, ["sign", "--key-dir", keys.keyDir, "--state", scratch + "/seq.json", scratch + "/signed.json"])
        #expect(sign.status == 0, "\(sign.stderr)")
        let signed = try String(contentsOfFile: scratch + "/signed.json", encoding: .utf8)
        let altered = signed.replacingOccurrences(of: "800", with: "1800")
        for (name, text) in [("altered.json", altered), ("unsigned.json", unsigned)] {
            try dropAtomically(Array(text.utf8), name: name, tmpDir: fixture.tmp, dir: fixture.incoming)
            try waitUntil("\(name) to be judged", timeout: 60) { fixture.names(fixture.incoming).isEmpty }
        }
        #expect(try fixture.summary().contains("\"rejected\":2"))
        try dropAtomically(Array(signed.utf8), name: "signed.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("the signed copy to apply", timeout: 60) { try fixture.summary().contains("\"applied\":1") }
        let summary = try fixture.summary()
        #expect(summary.contains("\"applied\":1,\"duplicates\":1,\"rejected\":1"), "\(summary)")
        // After the genuine copy, an unsigned one is a duplicate as well: the
        // counters do not depend on the order.
        try dropAtomically(Array(unsigned.utf8), name: "unsigned-again.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("the second unsigned copy", timeout: 60) { fixture.names(fixture.incoming).isEmpty }
        let after = try fixture.summary()
        #expect(after.contains("\"applied\":1,\"duplicates\":2,\"rejected\":1"), "\(after)")
        #expect(!fixture.names(fixture.quarantine).contains("unsigned-again.json"))
        let rejected = try runCommand(Binaries.strikectl, ["rejected", "--wide"] + socket)
        #expect(rejected.stdout.contains("altered.json") && !rejected.stdout.contains("unsigned.json"), "\(rejected.stdout)")
        #expect(fixture.names(fixture.quarantine).contains("unsigned.json"), "the quarantined copy stays, as evidence")
        #expect(fixture.stop() == 0)
    }
}
