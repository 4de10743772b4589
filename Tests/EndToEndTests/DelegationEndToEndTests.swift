import Foundation
import StrikeCore
import TestSupport
import Testing

/// The August 2020 story of examples/ through the daemon, its spool and its
/// socket, read back with `strikectl tree`, `delegate`, `council` and
/// `irregular`: delegation at every level, safety apart from mandates. The
/// messages are signed, and judged under the examples' keyring and its
/// scopes: the forged reports of examples/forged/ move nothing.
@Suite(.serialized) struct DelegationEndToEndTests {
    @Test func theStoryAsATree() throws {
        let examples = ManPage.path("examples")
        // The examples' keyring, copied so that its mode is the test's own.
        let scratch = TemporaryDirectory("strikecd-story")
        let keyring = scratch.path + "/keys"
        try FileManager.default.copyItem(atPath: examples + "/keys", toPath: keyring)
        chmod(keyring, 0o755)
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\nsignatures: required\nkeyring: \(keyring)\n")
        let socket = fixture.directory.path + "/socket"
        try fixture.start(extra: ["--socket", socket])
        defer { _ = fixture.stop() }
        let files = try FileManager.default.contentsOfDirectory(atPath: examples)
            .filter { $0.hasSuffix(".json") || $0.hasSuffix(".jsonl") }.sorted().map { examples + "/" + $0 }
        #expect(files.count == 15)
        // Backwards, so that later messages often arrive before earlier ones;
        // the forged reports first of all.
        for path in [examples + "/forged/motor-works-13-14.jsonl"] + files.reversed() {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            try dropAtomically(bytes, name: (path as NSString).lastPathComponent, tmpDir: fixture.tmp, dir: fixture.incoming)
        }
        try waitUntil("incoming/ to be empty", timeout: 60) { fixture.names(fixture.incoming).isEmpty }
        #expect(fixture.names(fixture.quarantine).isEmpty, "\(fixture.names(fixture.quarantine))")
        func ctl(_ arguments: [String]) throws -> String {
            let result = try runCommand(Binaries.strikectl, arguments + ["--socket", socket])
            #expect(result.status == 0, "strikectl \(arguments): \(result.stderr)")
            return result.stdout
        }

        // The chain from the national council down to the Tractor Works.
        // Rows compared without the padding after their last cell.
        let tree = try ctl(["tree"]).split(separator: "\n").map { String($0.reversed().drop { $0 == " " }.reversed()) }
        #expect(tree == [
            "BODY                      LEVEL          DELEGATE  MANDATE",
            "national-strike-council   national",
            "  potash-mine             workplace      heron     active",
            "  minsk-region-council    regional       rook      active",
            "    city-strike-council   local          rook      active",
            "      motor-works         workplace      kestrel   recalled",
            "      motor-works         workplace      lapwing   active",
            "      tractor-works       workplace      rook      active",
            "      uruchcha-committee  neighbourhood  swift     active",
            "      railway-depot       workplace      wren      resigned",
        ], "\(tree)")
        let json = try JSONReader.read(Array(try ctl(["tree", "--json"]).utf8))
        guard case .array(let roots) = json, case .object(let national)? = roots.first else {
            Issue.record("not one root: \(json)")
            return
        }
        guard case .string(let root)? = national["council"] else {
            Issue.record("no council: \(national)")
            return
        }
        #expect(root == "national-strike-council")

        // Safety apart from the mandate: kestrel was recalled, then detained
        // and released, and stays recalled; swift's arrest ended.
        let kestrel = try ctl(["delegate", "kestrel"])
        #expect(kestrel.contains("status       recalled"), "\(kestrel)")
        #expect(kestrel.contains("safety       free\n"), "\(kestrel)")
        #expect(kestrel.contains("reported     motor-works#12 2020-08-29T16:00:00Z"), "\(kestrel)")
        let swift = try ctl(["delegate", "swift", "--json"])
        #expect(swift.contains("\"status\": \"active\"") || swift.contains("\"status\":\"active\""), "\(swift)")
        let council = try ctl(["council", "minsk-region-council"])
        #expect(council.contains("level  regional"), "\(council)")
        #expect(council.contains("council:city-strike-council"), "\(council)")
        let status = try ctl(["status", "--json"])
        let summary = try JSONReader.read(Array(status.utf8))
        #expect(JSONWriter.string(summary) == JSONWriter.string(try JSONReader.read(Array("""
            {"workplaces": 4, "striking": 4, "participants": 3580,
             "delegates": {"active": 3, "detained": 1, "missing": 0, "exiled": 0, "recalled": 1, "resigned": 1},
             "mandates": {"active": 6, "recalled": 1, "resigned": 1},
             "demands": {"economic": 2, "democratic": 2},
             "messages": {"applied": 57, "duplicates": 0, "rejected": 0}}
            """.utf8))))
        // The seized Motor Works key's forgeries: listed, moving nothing.
        let tractorWorks = try ctl(["workplace", "tractor-works"])
        let facts = try ctl(["workplace", "tractor-works", "--json"]).filter { !$0.isWhitespace }
        #expect(facts.contains(#""status":"strike""#) && facts.contains(#""participants":2500"#), "\(facts)")
        #expect(tractorWorks.contains("motor-works #13") && tractorWorks.contains("strike.reported"), "\(tractorWorks)")
        let actions = try ctl(["actions", "--json"])
        #expect(actions.contains("2020-08-28T08:00:00+03:00") && !actions.contains("2020-09-07"), "\(actions)")
        #expect(try ctl(["council", "city-strike-council"]).contains("motor-works #14"))
        let irregular = try runCommand(Binaries.strikectl, ["irregular", "--socket", socket])
        #expect(irregular.status == 0 && irregular.stdout.isEmpty && irregular.stderr == "no irregular delegations\n")

        // An irregular election (the city council to the neighbourhood
        // committee, a lower level) is applied and listed.
        // Signed with a second key of the city council's, added to the keyring
        // as in a rotation (the examples' secret keys are not kept).
        let odd = #"{"v":1,"origin":"city-strike-council","seq":12,"sent_at":"2020-08-30T10:00:00+03:00","type":"delegate.elected","data":{"delegate":"lapwing","from_council":"city-strike-council","council":"uruchcha-committee","votes":{"for":5,"against":1}}}"#
        let keyDir = scratch.path + "/secret"
        #expect(try runCommand(Binaries.strikectl, ["keygen", "city-strike-council", "--key-dir", keyDir]).status == 0)
        let ring = keyring + "/city-strike-council.pub"
        try (String(contentsOfFile: ring, encoding: .utf8) + String(contentsOfFile: keyDir + "/city-strike-council.pub", encoding: .utf8))
            .write(toFile: ring, atomically: true, encoding: .utf8)
        fixture.process?.signal(SIGHUP)
        try waitUntil("the reload") { fixture.logLines().contains { $0.contains("configuration reloaded") && $0.contains("7 keys of 6 origins") } }
        try Data(odd.utf8).write(to: URL(fileURLWithPath: scratch.path + "/odd.json"))
        #expect(try runCommand(Binaries.strikectl, ["sign", "--key-dir", keyDir, "--state", scratch.path + "/seq.json", scratch.path + "/odd.json"]).status == 0)
        try dropAtomically(Array(try Data(contentsOf: URL(fileURLWithPath: scratch.path + "/odd.json"))), name: "odd.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("odd.json to be applied", timeout: 30) { fixture.names(fixture.incoming).isEmpty }
        let listed = try ctl(["irregular"])
        #expect(listed.contains("level") && listed.contains("lapwing") && listed.contains("city-strike-council#12"), "\(listed)")
    }
}
