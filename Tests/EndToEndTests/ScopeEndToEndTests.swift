import Foundation
import StrikeCore
import TestSupport
import Testing

/// Who speaks for whom, through the real daemon, the socket and strikectl:
/// the issue's forgery moves nothing and shows as reports; a reload with a
/// `speaks-for` line for the forger's origin moves the state, and one
/// without it moves it back.
@Suite(.serialized) struct ScopeEndToEndTests {
    /// `strikectl new`, signed by the origin's key, with its own sent_at.
    func new(_ keys: Keys, _ arguments: [String], sentAt: String, to file: String) throws -> [UInt8] {
        let result = try runCommand(Binaries.strikectl, ["new"] + arguments + [
            "--key-dir", keys.keyDir, "--state", keys.directory.path + "/seq.json", "--sent-at", sentAt, "-o", file,
        ])
        guard result.status == 0 else { throw TimeoutError(description: "new: \(result.stderr)") }
        return Array(try Data(contentsOf: URL(fileURLWithPath: file)))
    }

    func json(_ text: String) throws -> JSONObject {
        guard case .object(let object) = try JSONReader.read(Array(text.utf8)) else { throw TimeoutError(description: "not an object: \(text)") }
        return object
    }

    @Test func aForgedOutOfScopeReportMovesNothing() throws {
        let keys = try Keys(origins: ["tractor-works", "belarus-national", "kozlov-committee"])
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\nsignatures: required\nkeyring: \(keys.keyring)\n")
        let socket = fixture.directory.path + "/socket"
        try fixture.start(extra: ["--socket", socket])
        let scratch = fixture.directory.path
        let files: [(String, [UInt8])] = [
            ("strike.json", try new(keys, ["strike.reported", "--origin", "tractor-works", "--workplace", "tractor-works",
                                           "--status", "strike", "--participants", "3000"],
                                    sentAt: "2020-08-24T09:30:00+03:00", to: scratch + "/strike.json")),
            ("call.json", try new(keys, ["action.called", "--origin", "belarus-national", "--action", "general-strike",
                                         "--kind", "general-strike", "--starts-at", "2020-10-26T00:00:00+03:00"],
                                  sentAt: "2020-10-13T12:00:00+03:00", to: scratch + "/call.json")),
            // Another committee's key: "tractor-works: working, 0 participants", a minute later.
            ("forged-strike.json", try new(keys, ["strike.reported", "--origin", "kozlov-committee", "--workplace", "tractor-works",
                                                  "--status", "working", "--participants", "0"],
                                           sentAt: "2020-08-24T09:31:00+03:00", to: scratch + "/forged-strike.json")),
            // And the general strike moved, in the national council's name.
            ("forged-call.json", try new(keys, ["action.called", "--origin", "kozlov-committee", "--action", "general-strike",
                                                "--kind", "general-strike", "--starts-at", "2020-12-31T00:00:00+03:00",
                                                "--by", "belarus-national"],
                                         sentAt: "2020-10-13T12:01:00+03:00", to: scratch + "/forged-call.json")),
        ]
        #expect(String(decoding: files[3].1, as: UTF8.self).contains(#""by":"belarus-national""#))
        // strikecd check says what the daemon will make of them.
        let checked = try runCommand(Binaries.strikecd, ["check", "--config", fixture.config, scratch + "/strike.json", scratch + "/forged-strike.json"])
        #expect(checked.status == 0, "\(checked.stdout) \(checked.stderr)")
        #expect(checked.stdout.contains("forged-strike.json: report from another origin: kozlov-committee does not speak for workplace:tractor-works"), "\(checked.stdout)")
        #expect(checked.stdout.contains("all valid; 1 is a report from another origin"), "\(checked.stdout)")
        for (name, bytes) in files { try dropAtomically(bytes, name: name, tmpDir: fixture.tmp, dir: fixture.incoming) }
        try waitUntil("incoming/ to be empty", timeout: 60) { fixture.names(fixture.incoming).isEmpty }
        #expect(fixture.names(fixture.quarantine).isEmpty, "\(fixture.names(fixture.quarantine))")

        var summary = try fixture.summary()
        #expect(summary.contains("\"striking\":1") && summary.contains("\"participants\":3000") && summary.contains("\"applied\":4"), "\(summary)")
        let workplace = try runCommand(Binaries.strikectl, ["workplace", "tractor-works", "--socket", socket, "--json"])
        let reply = try json(workplace.stdout)
        #expect(reply.member("workplace")?.text("status") == "strike", "\(workplace.stdout)")
        let reports = reply.list("reports")
        #expect(reports.count == 1)
        #expect(reports.first?.member("message")?.text("origin") == "kozlov-committee")
        #expect(reports.first?.text("type") == "strike.reported" && reports.first?.text("subject") == "workplace/tractor-works")
        let text = try runCommand(Binaries.strikectl, ["workplace", "tractor-works", "--socket", socket])
        #expect(text.stdout.contains("REPORT FROM ANOTHER ORIGIN") && text.stdout.contains("kozlov-committee #1"), "\(text.stdout)")
        let actions = try runCommand(Binaries.strikectl, ["actions", "--socket", socket, "--json"])
        #expect(actions.stdout.contains("2020-10-26T00:00:00+03:00") && !actions.stdout.contains("2020-12-31"), "\(actions.stdout)")
        let council = try runCommand(Binaries.strikectl, ["council", "belarus-national", "--socket", socket])
        #expect(council.stdout.contains("kozlov-committee #2") && council.stdout.contains("action/general-strike"), "\(council.stdout)")
        #expect(fixture.logLines().contains { $0.contains("kozlov-committee #1 (strike.reported) is about workplace:tractor-works") },
                "\(fixture.logLines().suffix(20))")

        // The operator lets kozlov-committee speak for the tractor works and reloads: its report now moves the state.
        let file = keys.keyring + "/kozlov-committee.pub"
        let key = try String(contentsOfFile: file, encoding: .utf8)
        try (key + "speaks-for workplace:tractor-works\n").write(toFile: file, atomically: true, encoding: .utf8)
        fixture.process?.signal(SIGHUP)
        try waitUntil("the reload") { fixture.logLines().contains { $0.contains("configuration reloaded") } }
        #expect(fixture.logLines().contains { $0.contains("the keyring's scopes changed: 1 applied messages moved in or out of scope; 1 subjects") },
                "\(fixture.logLines().suffix(10))")
        summary = try fixture.summary()
        #expect(summary.contains("\"striking\":0") && summary.contains("\"applied\":4"), "\(summary)")
        #expect(try json(runCommand(Binaries.strikectl, ["workplace", "tractor-works", "--socket", socket, "--json"]).stdout)
            .list("reports").isEmpty)

        // Taken away again, and the daemon restarted instead of reloaded:
        // the state is worked out again before READY.
        #expect(fixture.stop() == 0)
        try key.write(toFile: file, atomically: true, encoding: .utf8)
        try fixture.start(extra: ["--socket", socket])
        summary = try fixture.summary()
        #expect(summary.contains("\"striking\":1") && summary.contains("\"participants\":3000"), "\(summary)")
        #expect(fixture.stop() == 0)
    }
}

private extension JSONObject {
    func member(_ key: String) -> JSONObject? { if case .object(let object)? = self[key] { object } else { nil } }
    func text(_ key: String) -> String? { if case .string(let text)? = self[key] { text } else { nil } }
    func list(_ key: String) -> [JSONObject] {
        guard case .array(let items)? = self[key] else { return [] }
        return items.compactMap { if case .object(let object) = $0 { object } else { nil } }
    }
}
