import Foundation
import StrikeCore
import TestSupport
import Testing

// Signed messages through the real binaries (issue 7): keys made by
// `strikectl keygen`, messages signed by `strikectl new` and `strikectl sign`,
// judged by the daemon's spool, Admin.Submit, `check` and `ingest`.

/// A committee's keys made with the real `strikectl keygen`, and a keyring.
struct Keys {
    let directory: TemporaryDirectory
    var keyDir: String { directory.path + "/secret" }
    var keyring: String { directory.path + "/keyring" }

    init(origins: [String], inKeyring: [String]? = nil) throws {
        directory = TemporaryDirectory("strikecd-keys")
        try FileManager.default.createDirectory(atPath: keyring, withIntermediateDirectories: true)
        chmod(keyring, 0o755)
        for origin in origins {
            let made = try runCommand(Binaries.strikectl, ["keygen", origin, "--key-dir", keyDir])
            guard made.status == 0 else { throw TimeoutError(description: "keygen: \(made.stderr)") }
        }
        for origin in inKeyring ?? origins {
            try trust(origin)
        }
    }

    /// Copies the origin's public key into the keyring, as an operator does.
    func trust(_ origin: String) throws {
        let target = keyring + "/\(origin).pub"
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: keyDir + "/\(origin).pub", toPath: target)
    }

    /// `strikectl new` into a file: signed when the origin has a key here.
    func new(_ arguments: [String], to file: String) throws -> [UInt8] {
        let result = try runCommand(Binaries.strikectl, ["new"] + arguments + [
            "--key-dir", keyDir, "--state", directory.path + "/seq.json", "--sent-at", "2020-08-24T09:30:00+03:00", "-o", file,
        ])
        guard result.status == 0 else { throw TimeoutError(description: "new: \(result.stderr)") }
        return Array(try Data(contentsOf: URL(fileURLWithPath: file)))
    }
}

func reasonCode(_ fixture: DaemonFixture, _ name: String) -> String? {
    guard let data = FileManager.default.contents(atPath: fixture.quarantine + "/.\(name).reason"),
          case .object(let object)? = try? JSONReader.read(Array(data)), case .string(let code)? = object["code"] else { return nil }
    return code
}

@Suite(.serialized) struct SignedSpoolEndToEndTests {
    /// The default policy: a signed file is applied; a tampered, an unsigned
    /// and an unknown origin's file are quarantined with their reasons.
    @Test func signedAppliedForgedQuarantined() throws {
        let keys = try Keys(origins: ["tractor-works", "stranger"], inKeyring: ["tractor-works"])
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\nsignatures: required\nkeyring: \(keys.keyring)\n")
        let socket = fixture.directory.path + "/socket"
        try fixture.start(extra: ["--socket", socket])
        let scratch = fixture.directory.path
        let signed = try keys.new(["strike.reported", "--origin", "tractor-works", "--workplace", "tractor-works",
                                   "--status", "strike", "--participants", "3000"], to: scratch + "/signed.json")
        #expect(String(decoding: signed, as: UTF8.self).contains("\"sig\":\""))
        let forged = Array(String(decoding: signed, as: UTF8.self)
            .replacingOccurrences(of: "\"seq\":1", with: "\"seq\":2")
            .replacingOccurrences(of: "3000", with: "30").utf8)
        let unsigned = Array(#"{"v":1,"origin":"tractor-works","seq":3,"sent_at":"2020-08-24T09:30:00Z","type":"strike.reported","data":{"workplace":"tractor-works","status":"working"}}"#.utf8)
        let stranger = try keys.new(["strike.reported", "--origin", "stranger", "--workplace", "tractor-works", "--status", "working"],
                                    to: scratch + "/stranger.json")
        for (name, bytes) in [("signed.json", signed), ("forged.json", forged), ("unsigned.json", unsigned), ("stranger.json", stranger)] {
            try dropAtomically(bytes, name: name, tmpDir: fixture.tmp, dir: fixture.incoming)
        }
        try waitUntil("incoming/ to be empty", timeout: 60) { fixture.names(fixture.incoming).isEmpty }
        #expect(reasonCode(fixture, "forged.json") == "bad-signature")
        #expect(reasonCode(fixture, "unsigned.json") == "unsigned")
        #expect(reasonCode(fixture, "stranger.json") == "unknown-origin")
        #expect(!fixture.names(fixture.quarantine).contains("signed.json"))
        let summary = try fixture.summary()
        #expect(summary.contains("\"striking\":1"), "\(summary)")
        #expect(summary.contains("\"participants\":3000"))
        #expect(summary.contains("\"applied\":1"))
        #expect(summary.contains("\"rejected\":3"))

        // Admin.Submit judges the same way.
        let submitted = try runCommand(Binaries.strikectl, ["submit", "--socket", socket, "--socket-submit", "--json", scratch + "/stranger.json"])
        #expect(submitted.stdout.contains("unknown-origin") || submitted.stdout.contains("duplicate"), "\(submitted.stdout) \(submitted.stderr)")
        let freshUnsigned = scratch + "/fresh.json"
        try Data(#"{"v":1,"origin":"tractor-works","seq":9,"sent_at":"2020-08-24T09:30:00Z","type":"strike.reported","data":{"workplace":"depot","status":"strike"}}"#.utf8)
            .write(to: URL(fileURLWithPath: freshUnsigned))
        let refused = try runCommand(Binaries.strikectl, ["submit", "--socket", socket, "--socket-submit", "--json", freshUnsigned])
        #expect(refused.stdout.contains("\"unsigned\""), "\(refused.stdout) \(refused.stderr)")

        // The operator adds the stranger's key, reloads and requeues its copy:
        // it is applied, and no longer counted as rejected.
        try keys.trust("stranger")
        fixture.process?.signal(SIGHUP)
        try waitUntil("the reload") { fixture.logLines().contains { $0.contains("configuration reloaded") && $0.contains("2 keys of 2 origins") } }
        let requeued = try runCommand(Binaries.strikectl, ["requeue", "--socket", socket, "stranger.json"])
        #expect(requeued.status == 0, "\(requeued.stderr)")
        try waitUntil("the requeued copy to be applied", timeout: 60) {
            fixture.names(fixture.incoming).isEmpty && !fixture.names(fixture.quarantine).contains("stranger.json")
        }
        let after = try fixture.summary()
        #expect(after.contains("\"applied\":2"), "\(after)")
        #expect(after.contains("\"rejected\":3"), "bad-signature, unsigned, and the unsigned submit: \(after)")
        #expect(fixture.stop() == 0)
    }

    /// `optional`: origins with a key must sign, the others need not.
    @Test func optionalPolicy() throws {
        let keys = try Keys(origins: ["tractor-works"])
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\nsignatures: optional\nkeyring: \(keys.keyring)\n")
        try fixture.start(extra: ["--socket", fixture.directory.path + "/socket"])
        let keyed = Array(#"{"v":1,"origin":"tractor-works","seq":1,"sent_at":"2020-08-24T09:30:00Z","type":"strike.reported","data":{"workplace":"tractor-works","status":"strike"}}"#.utf8)
        let unkeyed = Array(#"{"v":1,"origin":"depot","seq":1,"sent_at":"2020-08-24T09:30:00Z","type":"strike.reported","data":{"workplace":"depot","status":"strike"}}"#.utf8)
        try dropAtomically(keyed, name: "keyed.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try dropAtomically(unkeyed, name: "unkeyed.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("incoming/ to be empty", timeout: 60) { fixture.names(fixture.incoming).isEmpty }
        #expect(reasonCode(fixture, "keyed.json") == "unsigned")
        #expect(try fixture.summary().contains("\"striking\":1"))
        #expect(fixture.stop() == 0)
    }

    /// A keyring that cannot be used stops the daemon with the file named,
    /// and a missing one is a warning that says everything will be quarantined.
    @Test func badKeyringIsNamed() throws {
        let keys = try Keys(origins: [])
        try "ed25519 not-a-key\n".write(toFile: keys.keyring + "/depot.pub", atomically: true, encoding: .utf8)
        let fixture = try DaemonFixture(settings: "signatures: required\nkeyring: \(keys.keyring)\n")
        let result = try runCommand(Binaries.strikecd, ["run", "--config", fixture.config, "--spool", fixture.spool, "--database", fixture.database])
        #expect(result.status == 78)
        #expect(result.stderr.contains("\(keys.keyring)/depot.pub:1: the key is not the base64 of 32 bytes"), "\(result.stderr)")
        let checked = try runCommand(Binaries.strikecd, ["check-config", "--config", fixture.config])
        #expect(checked.status == 78)
        #expect(checked.stderr.contains("depot.pub:1"))

        try FileManager.default.removeItem(atPath: keys.keyring + "/depot.pub")
        let missing = TemporaryDirectory().path + "/keys"
        try "signatures: required\nkeyring: \(missing)\n".write(toFile: fixture.config, atomically: true, encoding: .utf8)
        let empty = try runCommand(Binaries.strikecd, ["check-config", "--config", fixture.config])
        #expect(empty.status == 0)
        #expect(empty.stderr.contains("does not exist: every message will be quarantined"), "\(empty.stderr)")
        #expect(empty.stdout.contains("signatures: required"))
    }

    /// `check` and `ingest` judge signatures as the daemon would.
    @Test func checkAndIngest() throws {
        let keys = try Keys(origins: ["tractor-works"])
        let scratch = keys.directory.path
        // The committee's own council (its slug): a body it speaks for, so nothing to report on it.
        let signed = try keys.new(["council.formed", "--origin", "tractor-works", "--council", "tractor-works", "--level", "local", "--area", "city"],
                                  to: scratch + "/signed.json")
        let forged = Array(String(decoding: signed, as: UTF8.self).replacingOccurrences(of: "\"city\"", with: "\"town\"").utf8)
        try Data(forged).write(to: URL(fileURLWithPath: scratch + "/forged.json"))
        let config = scratch + "/none.yaml"
        try "".write(toFile: config, atomically: true, encoding: .utf8)

        let check = try runCommand(Binaries.strikecd, ["check", "--config", config, "--keyring", keys.keyring, scratch + "/signed.json", scratch + "/forged.json"])
        #expect(check.status == 1)
        #expect(check.stdout.contains("forged.json: bad-signature: "), "\(check.stdout)")
        #expect(!check.stdout.contains("signed.json: "), "\(check.stdout)")
        // Copies that differ only in sig are not a conflict.
        let unsigned = scratch + "/unsigned.json"
        try Data(#"{"v":1,"origin":"tractor-works","seq":1,"sent_at":"2020-08-24T09:30:00+03:00","type":"council.formed","data":{"council":"tractor-works","level":"local","area":"city"}}"#.utf8)
            .write(to: URL(fileURLWithPath: unsigned))
        let lax = try runCommand(Binaries.strikecd, ["check", "--config", config, "--signatures", "off", scratch + "/signed.json", unsigned])
        #expect(lax.status == 0, "\(lax.stdout)")
        let strict = try runCommand(Binaries.strikecd, ["check", "--config", config, "--keyring", keys.keyring, unsigned])
        #expect(strict.stdout.contains("unsigned.json: unsigned: "))
        let bad = try runCommand(Binaries.strikecd, ["check", "--signatures", "sometimes", unsigned])
        #expect(bad.status != 0 && bad.stderr.contains("required, optional or off"))

        let database = scratch + "/state.sqlite"
        let ingest = try runCommand(Binaries.strikecd, ["ingest", "--config", config, "--keyring", keys.keyring, "--database", database,
                                                        scratch + "/signed.json", scratch + "/forged.json", unsigned])
        #expect(ingest.status == 0, "\(ingest.stderr)")
        // The unsigned copy is the signed message without its sig: once that is
        // applied, a duplicate; the forged one stays rejected.
        #expect(ingest.stdout.filter { !$0.isWhitespace }.contains("\"applied\":1,\"duplicates\":1,\"rejected\":1"), "\(ingest.stdout)")
    }

    /// `strikectl sign` with the key of docs/messages.md reproduces its signed
    /// message byte for byte; a message it cannot sign leaves the file alone.
    @Test func signMatchesTheDocumentedVector() throws {
        let docs = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/messages.md"), encoding: .utf8)
        func block(_ marker: String) throws -> String {
            let after = try #require(docs.components(separatedBy: marker).dropFirst().first)
            let lines = after.split(separator: "\n", omittingEmptySubsequences: false)
            let open = try #require(lines.firstIndex { $0.hasPrefix("```") })
            let close = try #require(lines[(open + 1)...].firstIndex { $0.hasPrefix("```") })
            return lines[(open + 1)..<close].joined(separator: "\n")
        }
        let directory = TemporaryDirectory("strikecd-sign")
        let key = directory.path + "/doc.key"
        try (try block("<!-- signature-example:secret -->") + "\n").write(toFile: key, atomically: false, encoding: .utf8)
        chmod(key, 0o600)
        let file = directory.path + "/report.json"
        try (try block("<!-- worked-example:input -->") + "\n").write(toFile: file, atomically: false, encoding: .utf8)
        let result = try runCommand(Binaries.strikectl, ["sign", "--key", key, file])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == (try block("<!-- signature-example:message -->")) + "\n")

        // Loose permissions on the key: refused, nothing written.
        chmod(key, 0o644)
        let loose = try runCommand(Binaries.strikectl, ["sign", "--key", key, file])
        #expect(loose.status != 0 && loose.stderr.contains("chmod 600"))
        // No key for the origin: the file is left unchanged.
        let before = try String(contentsOfFile: file, encoding: .utf8)
        let none = try runCommand(Binaries.strikectl, ["sign", "--key-dir", directory.path + "/none", file])
        #expect(none.status == 1)
        #expect(none.stderr.contains("no secret key for origin tractor-works"))
        #expect(try String(contentsOfFile: file, encoding: .utf8) == before)
    }

    /// Another implementation agrees: Python's `cryptography` verifies what
    /// strikectl signed, and strikecd accepts what Python signed, both over
    /// the canonical form without sig (for these messages, json.dumps with
    /// sorted keys and no spaces writes exactly that). scripts/setup installs
    /// python3-cryptography: without it this fails rather than being skipped.
    @Test func anotherImplementationAgrees() throws {
        let available = try runCommand("/usr/bin/python3", ["-c", "import cryptography.hazmat.primitives.asymmetric.ed25519"])
        try #require(available.status == 0, "python3 cannot import cryptography: run scripts/setup (python3-cryptography)")
        let keys = try Keys(origins: ["tractor-works"])
        let scratch = keys.directory.path
        _ = try keys.new(["strike.reported", "--origin", "tractor-works", "--workplace", "tractor-works", "--status", "strike",
                          "--participants", "3000"], to: scratch + "/ours.json")
        let script = #"""
            import base64, json, sys
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
            def canonical(value):
                return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
            keyring, ours, theirs = sys.argv[1:4]
            public = [l.split()[1] for l in open(keyring) if l.startswith("ed25519 ")][0]
            message = json.load(open(ours))
            sig = base64.b64decode(message.pop("sig"))
            Ed25519PublicKey.from_public_bytes(base64.b64decode(public)).verify(sig, canonical(message))
            key = Ed25519PrivateKey.generate()
            mine = {"v": 1, "origin": "depot", "seq": 1, "sent_at": "2020-08-24T09:30:00Z", "type": "council.formed",
                    "data": {"council": "city", "level": "local", "name": "Город"}}
            mine["sig"] = base64.b64encode(key.sign(canonical(mine))).decode()
            open(theirs, "w").write(json.dumps(mine, ensure_ascii=False))
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
            raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            open(sys.argv[4], "w").write("ed25519 " + base64.b64encode(raw).decode() + " depot\n")
            print("verified")
            """#
        let python = try runCommand("/usr/bin/python3", ["-c", script, keys.keyring + "/tractor-works.pub", scratch + "/ours.json",
                                                         scratch + "/theirs.json", keys.keyring + "/depot.pub"])
        #expect(python.stdout.contains("verified"), "\(python.stderr)")
        let check = try runCommand(Binaries.strikecd, ["check", "--signatures", "required",
                                                       "--keyring", keys.keyring, scratch + "/theirs.json", scratch + "/ours.json"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    /// keygen: the secret key 0600 in a 0700 directory, never printed, never
    /// overwritten; the public line printed.
    @Test func keygenKeepsTheSecret() throws {
        let directory = TemporaryDirectory("strikecd-keygen")
        let keyDir = directory.path + "/a/b/keys"
        let made = try runCommand(Binaries.strikectl, ["keygen", "mtz", "--key-dir", keyDir])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.hasPrefix("ed25519 ") && made.stdout.hasSuffix(" mtz\n"), "\(made.stdout)")
        var info = stat()
        #expect(stat(keyDir + "/mtz.key", &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(stat(keyDir, &info) == 0 && info.st_mode & 0o777 == 0o700)
        let secret = try String(contentsOfFile: keyDir + "/mtz.key", encoding: .utf8)
        let seed = try #require(secret.split(separator: "\n").first { $0.hasPrefix("ed25519-secret ") }?.split(separator: " ").last)
        #expect(!made.stdout.contains(seed) && !made.stderr.contains(seed))
        let again = try runCommand(Binaries.strikectl, ["keygen", "mtz", "--key-dir", keyDir])
        #expect(again.status == 1)
        #expect(try String(contentsOfFile: keyDir + "/mtz.key", encoding: .utf8) == secret)
        #expect(try String(contentsOfFile: keyDir + "/mtz.pub", encoding: .utf8).contains(made.stdout.trimmingCharacters(in: .newlines)))
    }
}

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite(.serialized) struct DataAtRestEndToEndTests {
    /// The daemon refuses a database directory that everybody may write
    /// (sticky bit or not), and says why.
    @Test(arguments: [0o777, 0o1777] as [Int]) func worldWritableDatabaseDirectory(mode: Int) throws {
        let fixture = try DaemonFixture()
        let shared = fixture.directory.path + "/shared"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        chmod(shared, mode_t(mode))
        let result = try runCommand(Binaries.strikecd, ["run", "--config", fixture.config, "--spool", fixture.spool,
                                                        "--database", shared + "/state.sqlite", "--log", "console"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("is writable by everybody"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: shared + "/state.sqlite"), "nothing was created there")
        let ingest = try runCommand(Binaries.strikecd, ["ingest", "--signatures", "off", "--database", shared + "/state.sqlite"])
        #expect(ingest.status == 1)
        #expect(ingest.stderr.contains("is writable by everybody"))
    }

    /// The database is created 0640 whatever the umask, and an existing one
    /// that everybody could read loses that access, with a warning.
    @Test func databaseModes() throws {
        let fixture = try DaemonFixture()
        let previous = umask(0)
        defer { umask(previous) }
        try fixture.start(extra: ["--socket", fixture.directory.path + "/socket"])
        var info = stat()
        #expect(stat(fixture.database, &info) == 0 && info.st_mode & 0o777 == 0o640, "mode \(String(info.st_mode & 0o777, radix: 8))")
        #expect(stat(fixture.database + "-wal", &info) != 0 || info.st_mode & 0o007 == 0)
        #expect(fixture.stop() == 0)
        chmod(fixture.database, 0o644)
        try fixture.start(extra: ["--socket", fixture.directory.path + "/socket"])
        #expect(stat(fixture.database, &info) == 0 && info.st_mode & 0o777 == 0o640)
        #expect(fixture.logLines().contains { $0.contains("was readable by everybody (mode 644); took that access away") })
        #expect(fixture.stop() == 0)
        // Quarantined copies are not readable by everybody either.
        try fixture.start(extra: ["--socket", fixture.directory.path + "/socket"])
        try dropAtomically(Array("not json".utf8), name: "junk.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("the junk to be quarantined", timeout: 60) { fixture.names(fixture.quarantine).contains(".junk.json.reason") }
        #expect(stat(fixture.quarantine + "/.junk.json.reason", &info) == 0 && info.st_mode & 0o007 == 0)
        #expect(stat(fixture.quarantine, &info) == 0 && info.st_mode & 0o007 == 0)
        #expect(fixture.stop() == 0)
    }
}

@Suite struct ScopeConfigEndToEndTests {
    /// check-config prints what each origin speaks for; a bad `speaks-for`
    /// line stops it with the file and line named.
    @Test func checkConfigPrintsScopes() throws {
        let keys = try Keys(origins: ["minsk-city", "mtz"])
        let file = keys.keyring + "/minsk-city.pub"
        let key = try String(contentsOfFile: file, encoding: .utf8)
        try (key + "speaks-for council:minsk-city workplace:*\n").write(toFile: file, atomically: true, encoding: .utf8)
        let fixture = try DaemonFixture(settings: "signatures: required\nkeyring: \(keys.keyring)\n")
        let checked = try runCommand(Binaries.strikecd, ["check-config", "--config", fixture.config])
        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(checked.stdout.contains("speaks-for minsk-city: council:minsk-city workplace:*\n"), "\(checked.stdout)")
        #expect(checked.stdout.contains("speaks-for mtz: council:mtz workplace:mtz (no speaks-for line: its own workplace and council)\n"), "\(checked.stdout)")

        try (key + "speaks-for council:minsk-city workplaces\n").write(toFile: file, atomically: true, encoding: .utf8)
        let bad = try runCommand(Binaries.strikecd, ["check-config", "--config", fixture.config])
        #expect(bad.status == 78)
        #expect(bad.stderr.contains("minsk-city.pub:\(key.split(separator: "\n", omittingEmptySubsequences: false).count): \"workplaces\" is not a scope"), "\(bad.stderr)")
    }
}
