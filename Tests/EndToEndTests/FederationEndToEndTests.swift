import Foundation
import StrikeCore
import TestSupport
import Testing

/// Federation between real daemons on one machine: batches written into
/// outboxes, read by the other node as an inbox (as over Syncthing or a
/// stick), and `strikecd import` as NNCP's exec handler runs it. The
/// multi-node tests over real NNCP and Syncthing are in scripts/test.
@Suite(.serialized) struct FederationEndToEndTests {
    static func message(_ origin: String, _ seq: Int, _ workplace: String, pretty: Bool = false) -> String {
        let separator = pretty ? ",\n  " : ","
        return "{\"v\":1\(separator)\"origin\":\"\(origin)\"\(separator)\"seq\":\(seq)\(separator)\"sent_at\":\"2020-08-24T09:00:00Z\"\(separator)"
            + "\"type\":\"strike.reported\"\(separator)\"data\":{\"workplace\":\"\(workplace)\",\"status\":\"strike\",\"participants\":\(seq)}}"
    }

    /// `status --digest --json` of a fixture's daemon: (digest, applied).
    static func digest(_ fixture: DaemonFixture) throws -> (digest: String, applied: Int) {
        let result = try runCommand(Binaries.strikectl, ["status", "--json", "--digest", "--socket", fixture.directory.path + "/socket"])
        guard result.status == 0, case .object(let object) = try JSONReader.read(Array(result.stdout.utf8)),
              case .string(let digest)? = object["digest"], case .object(let messages)? = object["messages"],
              case .number(let applied)? = messages["applied"] else { return ("", -1) }
        return (digest, Int(applied.int64 ?? -1))
    }

    /// Two nodes, each the other's peer through an outbox the other reads
    /// as an inbox: copies dropped at either (a pretty-printed one-message
    /// file among them, which a batch frames) reach the other, and their
    /// digests end equal, across a kill -9 of one node right after a drop.
    @Test func twoNodesConvergeThroughOutboxesAndInboxes() throws {
        let shared = TemporaryDirectory("strikecd-fed")
        let aToB = shared.path + "/a-to-b", bToA = shared.path + "/b-to-a"
        for dir in [aToB, bToA] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        func settings(node: String, peer: String, outbox: String, inbox: String) -> String {
            "grace_period: 1s\nrescan_interval: 1s\ngap_report_interval: 2s\nnode: \(node)\npeers:\n  - name: \(peer)\n    outbox: \(outbox)\n"
                + "inboxes:\n  - path: \(inbox)\n    from: \(peer)\n"
        }
        let a = try DaemonFixture(settings: settings(node: "minsk", peer: "gomel", outbox: aToB, inbox: bToA))
        let b = try DaemonFixture(settings: settings(node: "gomel", peer: "minsk", outbox: bToA, inbox: aToB))
        try a.start()
        try b.start()
        defer { _ = a.stop(); _ = b.stop() }
        let atMinsk = (1...40).map { Self.message("mtz", $0, "mtz-\($0 % 5)") }.joined(separator: "\n") + "\n"
        try dropAtomically(Array(atMinsk.utf8), name: "minsk.jsonl", tmpDir: a.tmp, dir: a.incoming)
        try dropAtomically(Array(Self.message("azot", 1, "azot", pretty: true).utf8), name: "azot.json", tmpDir: b.tmp, dir: b.incoming)
        let atGomel = (2...30).map { Self.message("azot", $0, "azot-\($0 % 3)") }.joined(separator: "\n") + "\n"
        try dropAtomically(Array(atGomel.utf8), name: "gomel.jsonl", tmpDir: b.tmp, dir: b.incoming)
        // Killed as soon as minsk's copies are committed: the batch may not be written yet.
        try waitUntil("minsk to apply its copies", timeout: 60) { try Self.digest(a).applied >= 40 }
        a.kill9()
        try a.start()
        try waitUntil("both nodes to hold the 70 messages with equal digests", timeout: 120) {
            let (x, y) = (try Self.digest(a), try Self.digest(b))
            return x.applied == 70 && y.applied == 70 && x.digest == y.digest
        }
        // Syncthing's temporary and conflict names in an inbox are skipped;
        // they are there before the file that is taken, so the scan that
        // takes it saw them too.
        try Self.message("ghost", 1, "ghost").write(toFile: bToA + "/.syncthing.batch-gomel-1.jsonl.tmp", atomically: false, encoding: .utf8)
        try Self.message("ghost", 2, "ghost").write(toFile: bToA + "/batch-gomel-2.sync-conflict-20200824-090000-ABCDEFG.jsonl", atomically: false, encoding: .utf8)
        try Self.message("ghost", 3, "ghost").write(toFile: shared.path + "/late.json", atomically: false, encoding: .utf8)
        #expect(rename(shared.path + "/late.json", bToA + "/late.json") == 0)
        try waitUntil("minsk to take late.json from its inbox", timeout: 60) { try Self.digest(a).applied == 71 }
        #expect(a.names(a.quarantine).isEmpty, "the conflict copy was skipped, not quarantined")
        // Inboxes are never deleted from; batches are named for their node.
        #expect(a.names(bToA).filter { !$0.hasPrefix(".") && $0 != "late.json" && !$0.contains("sync-conflict") }
            .allSatisfy { $0.hasPrefix("batch-gomel-") && $0.hasSuffix(".jsonl") })
        #expect(a.names(bToA).contains(".syncthing.batch-gomel-1.jsonl.tmp") && a.names(bToA).contains("late.json"))
        #expect(b.names(aToB).allSatisfy { $0.hasPrefix("batch-minsk-") && $0.hasSuffix(".jsonl") } && !b.names(aToB).isEmpty)
        // Nothing junk, nothing lost: every copy counted once as applied.
        #expect(a.names(a.quarantine).isEmpty && b.names(b.quarantine).isEmpty)
    }

    /// A peer's filter keeps an origin from it; a forged or replayed report
    /// re-sends at most, and changes neither the state nor what is exported.
    @Test func filtersAndForgedReports() throws {
        let shared = TemporaryDirectory("strikecd-fed")
        let outbox = shared.path + "/to-brest"
        try FileManager.default.createDirectory(atPath: outbox, withIntermediateDirectories: true)
        let a = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\ngap_report_interval: 0\nnode: minsk\npeers:\n"
            + "  - name: brest\n    outbox: \(outbox)\n    send: [mtz]\n")
        try a.start()
        defer { _ = a.stop() }
        let copies = [Self.message("mtz", 1, "mtz"), Self.message("secret", 1, "cell-7"), Self.message("mtz", 2, "mtz")]
        try dropAtomically(Array((copies.joined(separator: "\n") + "\n").utf8), name: "drop.jsonl", tmpDir: a.tmp, dir: a.incoming)
        func sent() -> String {
            a.names(outbox).compactMap { try? String(contentsOfFile: outbox + "/" + $0, encoding: .utf8) }.joined()
        }
        try waitUntil("the batch for brest", timeout: 60) { sent().contains("\"seq\":2,") }
        #expect(!sent().contains("secret"), "the filter keeps the origin secret from brest")
        let before = try Self.digest(a)
        #expect(before.applied == 3)

        // Forged: brest claims it holds everything, cannot supply anything,
        // wants secret (filtered) and mtz #1 again; plus a replayed batch.
        let forged = [
            #"{"strikecd":"batch","v":1,"node":"brest"}"#,
            #"{"strikecd":"have","v":1,"node":"brest","to":"minsk","ranges":{"mtz":[[1,1000]],"secret":[[1,1000]]},"want":{"secret":[[1,1]],"mtz":[[1,1]]},"full":true}"#,
            #"{"strikecd":"cannot","v":1,"node":"brest","to":"minsk","ranges":{"mtz":[[1,1000]]}}"#,
        ].joined(separator: "\n") + "\n"
        try dropAtomically(Array(forged.utf8), name: "forged.jsonl", tmpDir: a.tmp, dir: a.incoming)
        let replay = try String(contentsOfFile: outbox + "/" + a.names(outbox)[0], encoding: .utf8)
        try dropAtomically(Array(replay.utf8), name: "replay.jsonl", tmpDir: a.tmp, dir: a.incoming)
        try waitUntil("the answer to the forged report", timeout: 60) { sent().contains("\"strikecd\":\"cannot\"") }
        #expect(sent().contains(#""ranges":{"secret":[[1,1]]}"#), "secret is answered with cannot, never sent: \(sent())")
        #expect(!sent().contains("cell-7"))
        try waitUntil("the spool to take both files", timeout: 60) { a.names(a.incoming).isEmpty }
        let after = try Self.digest(a)
        #expect(after.digest == before.digest && after.applied == before.applied, "reports never change the state")
        #expect(a.names(a.quarantine).isEmpty, "control lines are not junk")

        // Delivery goes on: a new copy still goes to brest.
        try dropAtomically(Array(Self.message("mtz", 3, "mtz").utf8), name: "three.json", tmpDir: a.tmp, dir: a.incoming)
        try waitUntil("mtz #3 for brest after the forged report", timeout: 60) { sent().contains("\"seq\":3,") }
    }

    /// `strikecd import`: the payload durably in incoming/ under a name that
    /// holds NNCP_SENDER, exit 0 for a message, a batch and junk alike.
    @Test func importDropsDurably() throws {
        let a = try DaemonFixture()
        try a.start()
        defer { _ = a.stop() }
        let environment = ["NNCP_SENDER": "GOMEL7ID", "PATH": "/usr/bin:/bin"]
        let one = try runCommand(Binaries.strikecd, ["import", "--spool", a.spool], input: Self.message("mtz", 1, "mtz", pretty: true), environment: environment)
        #expect(one.status == 0, "\(one.stderr)")
        // A copy with line breaks travels framed in a `copy` line.
        let framed = Base64.encode(Array(Self.message("mtz", 3, "mtz", pretty: true).utf8))
        let batch = #"{"strikecd":"batch","v":1,"node":"gomel"}"# + "\n" + Self.message("mtz", 2, "mtz") + "\n"
            + #"{"strikecd":"copy","v":1,"base64":""# + framed + "\"}\n"
        let two = try runCommand(Binaries.strikecd, ["import", "--spool", a.spool], input: batch, environment: environment)
        #expect(two.status == 0, "\(two.stderr)")
        let junk = try runCommand(Binaries.strikecd, ["import", "--spool", a.spool], input: "not a message", environment: environment)
        #expect(junk.status == 0, "junk is the spool's to quarantine, never NNCP's to retry: \(junk.stderr)")
        try waitUntil("the three messages applied and the junk quarantined", timeout: 60) {
            (try? Self.digest(a).applied) == 3 && a.names(a.quarantine).contains { $0.hasPrefix("nncp.GOMEL7ID.") }
        }
        #expect(a.names(a.tmp).isEmpty)
    }

    /// A full disk: exit 75 with a clear line, nothing left in the spool;
    /// once there is room, the same payload is imported whole.
    @Test func importOnAFullDiskExits75AndLosesNothing() throws {
        let directory = TemporaryDirectory("strikecd-full")
        let mount = directory.path + "/small"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let mounted = try runCommand("/bin/mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mount])
        try #require(mounted.status == 0, "a small tmpfs (needs root): \(mounted.stderr)")
        defer { _ = try? runCommand("/bin/umount", [mount]) }
        for sub in ["incoming", "tmp"] { try FileManager.default.createDirectory(atPath: mount + "/" + sub, withIntermediateDirectories: true) }
        // Fill it, leaving less than the payload needs.
        let filler = mount + "/filler"
        let fill = try runCommand("/bin/dd", ["if=/dev/zero", "of=" + filler, "bs=4096", "count=1000"])
        _ = fill
        let payload = (1...400).map { Self.message("mtz", $0, "mtz") }.joined(separator: "\n") + "\n"
        #expect(payload.utf8.count > 40_000)
        let full = try runCommand(Binaries.strikecd, ["import", "--spool", mount], input: payload, environment: ["NNCP_SENDER": "gomel"])
        #expect(full.status == 75, "EX_TEMPFAIL: \(full.status) \(full.stderr)")
        #expect(full.stderr.contains("No space left on device") && full.stderr.contains("try again later"), "\(full.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: mount + "/incoming").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: mount + "/tmp").isEmpty)
        // Room again: NNCP's retry succeeds, and the file is the payload, whole.
        try FileManager.default.removeItem(atPath: filler)
        let retry = try runCommand(Binaries.strikecd, ["import", "--spool", mount], input: payload, environment: ["NNCP_SENDER": "gomel"])
        #expect(retry.status == 0, "\(retry.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: mount + "/incoming")
        #expect(names.count == 1 && names[0].hasPrefix("nncp.gomel.") && names[0].hasSuffix(".jsonl"))
        #expect(try String(contentsOfFile: mount + "/incoming/" + names[0], encoding: .utf8) == payload)
    }

    /// A lost batch is repaired by gap reports: the receiver asks for what
    /// it lacks, the sender re-sends it; what nobody holds is answered with
    /// `cannot`, and the asker stops asking for it. `strikectl peers` shows
    /// both sides of it.
    @Test func aLostBatchIsRepairedAndCannotStopsTheAsking() throws {
        let shared = TemporaryDirectory("strikecd-fed")
        let aToB = shared.path + "/a-to-b", bToA = shared.path + "/b-to-a", relay = shared.path + "/relay"
        for dir in [aToB, bToA, relay] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        func settings(node: String, peer: String, outbox: String, inbox: String) -> String {
            "grace_period: 1s\nrescan_interval: 1s\ngap_report_interval: 1s\nnode: \(node)\npeers:\n  - name: \(peer)\n    outbox: \(outbox)\n"
                + "inboxes:\n  - path: \(inbox)\n    from: \(peer)\n"
        }
        let a = try DaemonFixture(settings: settings(node: "minsk", peer: "gomel", outbox: aToB, inbox: bToA))
        let b = try DaemonFixture(settings: settings(node: "gomel", peer: "minsk", outbox: bToA, inbox: relay))
        try a.start()
        try b.start()
        defer { _ = a.stop(); _ = b.stop() }
        // The first batch is lost on the way.
        let first = (1...10).map { Self.message("mtz", $0, "mtz") }.joined(separator: "\n") + "\n"
        try dropAtomically(Array(first.utf8), name: "first.jsonl", tmpDir: a.tmp, dir: a.incoming)
        try waitUntil("minsk's first batch", timeout: 60) {
            a.names(aToB).contains { (try? String(contentsOfFile: aToB + "/" + $0, encoding: .utf8))?.contains("\"seq\":10,") == true }
        }
        let lost = Set(a.names(aToB).filter { !$0.hasPrefix(".") })
        // What comes after is carried (the relay: Syncthing, a courier), and
        // a message of an origin nobody else holds is dropped at gomel.
        try dropAtomically(Array(Self.message("mtz", 11, "mtz").utf8), name: "eleven.json", tmpDir: a.tmp, dir: a.incoming)
        try dropAtomically(Array(Self.message("ghost", 3, "ghost").utf8), name: "ghost.json", tmpDir: b.tmp, dir: b.incoming)
        var carried = lost
        try waitUntil("gomel to hold mtz 1 to 11 by gap repair", timeout: 120) {
            for name in a.names(aToB) where !carried.contains(name) {
                carried.insert(name)
                try FileManager.default.copyItem(atPath: aToB + "/" + name, toPath: relay + "/" + name)
            }
            return try Self.digest(b).applied == 12
        }
        func peers(_ fixture: DaemonFixture) throws -> [String: JSONObject] {
            let result = try runCommand(Binaries.strikectl, ["peers", "--json", "--socket", fixture.directory.path + "/socket"])
            var found: [String: JSONObject] = [:]
            for line in result.stdout.split(separator: "\n") {
                if case .object(let peer) = try JSONReader.read(Array(line.utf8)), case .string(let name)? = peer["name"] { found[name] = peer }
            }
            return found
        }
        try waitUntil("gomel to hear that minsk cannot supply ghost 1-2", timeout: 60) {
            guard case .array(let runs)? = try peers(b)["minsk"]?["cannot"] else { return false }
            return runs.count == 1 && JSONWriter.string(runs[0], style: .canonical) == #"{"first":1,"last":2,"origin":"ghost"}"#
        }
        let minsk = try #require(try peers(a)["gomel"])
        if case .number(let resent)? = minsk["resent"] { #expect((resent.int64 ?? 0) >= 10, "re-sent the lost batch's copies") }
        #expect(minsk["last_heard"] != nil && minsk["last_sent"] != nil)
        // gomel's reports since no longer ask for ghost 1-2.
        let before = Set(a.names(bToA))
        try waitUntil("a later report from gomel", timeout: 60) {
            try dropAtomically(Array(Self.message("azot", Int.random(in: 1...1_000_000), "azot").utf8), name: "azot-\(UUID().uuidString).json", tmpDir: b.tmp, dir: b.incoming)
            return a.names(bToA).contains { !before.contains($0) }
        }
        for name in a.names(bToA) where !before.contains(name) {
            let text = try String(contentsOfFile: bToA + "/" + name, encoding: .utf8)
            #expect(!text.contains(#""want":{"ghost""#), "\(text)")
        }
        // The lost batch's file is still in the outbox: strikecd deletes nothing there.
        #expect(lost.isSubset(of: Set(a.names(aToB))))
    }

    /// The hand-off fails (the outbox is gone: a stick pulled out): the
    /// copies stay queued, in the database, across a kill -9, and go once
    /// the outbox is back: re-sent rather than lost, and never twice.
    @Test func anOutboxThatIsGoneLosesNothing() throws {
        let shared = TemporaryDirectory("strikecd-fed")
        let outbox = shared.path + "/stick"
        let a = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\ngap_report_interval: 0\nnode: minsk\npeers:\n"
            + "  - name: courier\n    outbox: \(outbox)\n")
        try a.start()
        defer { _ = a.stop() }
        try? FileManager.default.removeItem(atPath: outbox)
        let copies = (1...25).map { Self.message("mtz", $0, "mtz") }.joined(separator: "\n") + "\n"
        try dropAtomically(Array(copies.utf8), name: "drop.jsonl", tmpDir: a.tmp, dir: a.incoming)
        try waitUntil("the copies applied and the hand-off failing", timeout: 60) {
            (try Self.digest(a).applied) == 25 && a.logLines().contains { $0.contains("federation: ") && $0.contains("will try again") }
        }
        a.kill9()
        try FileManager.default.createDirectory(atPath: outbox, withIntermediateDirectories: true)
        try a.start()
        func lines() -> [Substring] {
            a.names(outbox).filter { !$0.hasPrefix(".") }.flatMap { name in
                ((try? String(contentsOfFile: outbox + "/" + name, encoding: .utf8)) ?? "").split(separator: "\n").filter { !$0.hasPrefix("{\"strikecd\"") }
            }
        }
        try waitUntil("the 25 copies in the courier's outbox", timeout: 60) { lines().count >= 25 }
        // And once only, also after the next passes.
        try dropAtomically(Array(Self.message("mtz", 26, "mtz").utf8), name: "more.json", tmpDir: a.tmp, dir: a.incoming)
        try waitUntil("mtz #26 sent", timeout: 60) { lines().count >= 26 }
        #expect(lines().count == 26 && Set(lines()).count == 26)
    }

    /// A scope filter sends the copies about its bodies, whatever their
    /// origin, and nothing else: not another workplace's, not a safety report.
    @Test func aScopeFilterSendsCopiesAboutItsBodies() throws {
        let shared = TemporaryDirectory("strikecd-fed")
        let outbox = shared.path + "/to-gomel"
        try FileManager.default.createDirectory(atPath: outbox, withIntermediateDirectories: true)
        let a = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\ngap_report_interval: 0\nnode: minsk\npeers:\n"
            + "  - name: gomel\n    outbox: \(outbox)\n    send: [\"workplace:mtz\"]\n")
        try a.start()
        defer { _ = a.stop() }
        let safety = #"{"v":1,"origin":"city","seq":9,"sent_at":"2020-08-24T09:00:00Z","type":"delegate.safety","data":{"delegate":"rook","status":"detained"}}"#
        let copies = [Self.message("city", 1, "mtz"), Self.message("city", 2, "azot"), safety, Self.message("mtz", 1, "mtz")]
        try dropAtomically(Array((copies.joined(separator: "\n") + "\n").utf8), name: "drop.jsonl", tmpDir: a.tmp, dir: a.incoming)
        func sent() -> String {
            a.names(outbox).compactMap { try? String(contentsOfFile: outbox + "/" + $0, encoding: .utf8) }.joined()
        }
        let copiesSent = { sent().split(separator: "\n").filter { !$0.hasPrefix(#"{"strikecd""#) } }
        try waitUntil("the two copies about mtz for gomel", timeout: 60) { copiesSent().count >= 2 }
        #expect(copiesSent().count == 2 && copiesSent().allSatisfy { $0.contains(#""workplace":"mtz""#) }, "\(sent())")
        #expect(!sent().contains("azot") && !sent().contains("rook"), "\(sent())")
    }

    /// Split horizon over NNCP: what `strikecd import` took from a peer's
    /// node (NNCP_SENDER, its id) is not sent back to that peer.
    @Test func whatCameFromAnNNCPPeerIsNotSentBack() throws {
        let shared = TemporaryDirectory("strikecd-fed")
        let id = "7VGMXAQJFDXJD4XS5RU6HLMNWM2LTSZ5KLMTQ3YIPCPPM3IAGNUQ"
        let a = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\ngap_report_interval: 0\nnode: minsk\n"
            + "outbox_directory: \(shared.path)/outbox\npeers:\n  - name: gomel\n    nncp: gomel\n    nncp_id: \(id)\n")
        try a.start()
        defer { _ = a.stop() }
        let imported = try runCommand(Binaries.strikecd, ["import", "--spool", a.spool], input: Self.message("azot", 1, "azot"),
                                      environment: ["NNCP_SENDER": id])
        #expect(imported.status == 0, "\(imported.stderr)")
        try waitUntil("gomel's copy applied", timeout: 60) { try Self.digest(a).applied == 1 }
        try dropAtomically(Array(Self.message("mtz", 1, "mtz").utf8), name: "local.json", tmpDir: a.tmp, dir: a.incoming)
        let outbox = shared.path + "/outbox/gomel"
        func sent() -> String { a.names(outbox).compactMap { try? String(contentsOfFile: outbox + "/" + $0, encoding: .utf8) }.joined() }
        try waitUntil("the local copy in gomel's outbox", timeout: 60) { sent().contains(#""workplace":"mtz""#) }
        #expect(!sent().contains(#""workplace":"azot""#), "\(sent())")
    }
}
