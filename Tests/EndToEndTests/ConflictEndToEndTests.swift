import Foundation
import TestSupport
import Testing

/// An operator decides a conflict with `strikectl rejected` and `strikectl
/// forget`, against the real daemon: the genuine version is applied again,
/// the Summary and Watch say so, and nothing else changes.
@Suite(.serialized) struct ConflictEndToEndTests {
    static let genuine = #"{"v":1,"origin":"mtz","seq":1,"sent_at":"2020-08-24T09:00:00Z","type":"strike.reported","data":{"workplace":"mtz","status":"strike","participants":3000}}"#
    static let forged = #"{"v":1,"origin":"mtz","seq":1,"sent_at":"2020-08-24T09:00:00Z","type":"strike.reported","data":{"workplace":"mtz","status":"working"}}"#

    @Test func forgettingTheForgedVersionRestoresTheGenuineOne() throws {
        let fixture = try DaemonFixture()
        let socket = fixture.directory.path + "/socket"
        try fixture.start(extra: ["--socket", socket])
        func ctl(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
            try runCommand(Binaries.strikectl, arguments + ["--socket", socket])
        }
        try dropAtomically(Array(Self.genuine.utf8), name: "genuine.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("the genuine report to be applied") { fixture.names(fixture.incoming).isEmpty }
        #expect(try ctl(["status", "--json"]).stdout.contains(#""striking":1"#))

        let watchLog = fixture.directory.path + "/watch.log"
        let watch = try RunningProcess(Binaries.strikectl, ["watch", "--json", "--socket", socket], log: watchLog)
        defer { watch.signal(SIGTERM); _ = watch.waitForExit(timeout: 10) }
        try waitUntil("the watch to start") { watch.log.contains("summary") }

        try dropAtomically(Array(Self.forged.utf8), name: "forged.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("the conflict") { watch.log.contains(#""outcome":"removed""#) }
        #expect(try ctl(["status", "--json"]).stdout.contains(#""striking":0"#))

        // Both versions are listed, each with an ID; the forged one is the
        // quarantined copy.
        let listed = try ctl(["rejected", "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let versions = listed.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(versions.count == 2)
        guard let forged = versions.first(where: { ($0["source"] as? String) == "forged.json" }),
              let hash = forged["hash"] as? String else {
            Issue.record("the forged version is not listed: \(listed.stdout)")
            return
        }
        let table = try ctl(["rejected"]).stdout
        #expect(table.contains(String(hash.prefix(12))))

        // Both sides can be read before deciding: the applied one's file is gone.
        let shownForged = try ctl(["show", String(hash.prefix(12))])
        #expect(shownForged.status == 0, "\(shownForged.stderr)")
        #expect(shownForged.stdout.contains(#""status": "working""#), "\(shownForged.stdout)")
        if let genuine = versions.first(where: { ($0["source"] as? String) == "genuine.json" })?["hash"] as? String {
            let shownGenuine = try ctl(["show", genuine])
            #expect(shownGenuine.stdout.contains(#""participants": 3000"#), "\(shownGenuine.stdout)")
        } else {
            Issue.record("the genuine version is not listed")
        }

        let forgot = try ctl(["forget", String(hash.prefix(12))])
        #expect(forgot.status == 0, "\(forgot.stderr)")
        #expect(forgot.stdout.contains("mtz #1 is applied again"), "\(forgot.stdout)")
        #expect(try ctl(["status", "--json"]).stdout.contains(#""striking":1"#))
        // Watch began after the genuine report: its only `applied` is the restoration.
        try waitUntil("Watch to show the genuine version applied again") {
            watch.log.split(separator: "\n").contains { $0.contains(#""outcome":"applied""#) && $0.contains(#""origin":"mtz""#) }
        }
        let remaining = try ctl(["rejected", "--json"]).stdout.split(separator: "\n")
        #expect(remaining.count == 0, "\(remaining)")
        // The quarantined copy stays, as evidence.
        #expect(fixture.names(fixture.quarantine).contains("forged.json"))

        // Forgotten already; an applied version cannot be forgotten.
        let again = try ctl(["forget", hash])
        #expect(again.status == 1)
        #expect(again.stderr.contains("no rejected version"), "\(again.stderr)")
        let bad = try ctl(["forget", "xyz"])
        #expect(bad.status != 0)
        #expect(fixture.stop() == 0)
    }
}
