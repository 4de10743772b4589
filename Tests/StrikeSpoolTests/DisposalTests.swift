import Foundation
import StrikeCore
import StrikeOS
import StrikeSpool
import StrikeStore
import TestSupport
import Testing

/// What leaves incoming/ after a batch commits is the file that was read,
/// never another that took its name meanwhile.
@Suite struct DisposalTests {
    static func message(_ seq: Int) -> String {
        #"{"v":1,"origin":"mtz","seq":\#(seq),"sent_at":"2020-08-24T09:00:00Z","type":"council.formed","data":{"council":"c\#(seq)","level":"local"}}"#
    }

    /// Writes `text` into tmp/ and renames it to incoming/`name`, as a courier does.
    static func drop(_ text: String, as name: String, in layout: SpoolLayout) throws {
        let staged = layout.tmp + "/" + name
        try text.write(toFile: staged, atomically: false, encoding: .utf8)
        guard rename(staged, layout.incoming + "/" + name) == 0 else { throw SystemError(errno: errno, operation: "rename", path: staged) }
    }

    @Test(arguments: ["renamed over", "written in place"])
    func aFileThatChangesAfterItWasReadStaysToBeRead(how: String) throws {
        let dir = TemporaryDirectory()
        let layout = try SpoolLayout(root: dir.path + "/spool")
        let store = try Store(path: dir.path + "/state.sqlite")
        let processor = try SpoolProcessor(layout: layout, store: store, settings: SpoolProcessor.Settings())
        try Self.drop(Self.message(1), as: "a.json", in: layout)
        try Self.drop(Self.message(2), as: "b.json", in: layout)
        // The batch commits at the end of the pass: by the time b.json is
        // handled, a.json has been read but not yet removed.
        var handled = 0
        let report = try processor.process(["a.json", "b.json"], now: Sys.now()) {
            handled += 1
            if handled == 2 {
                if how == "renamed over" {
                    try? Self.drop(Self.message(3), as: "a.json", in: layout)
                } else {
                    // Same inode, new contents: only its times tell. File
                    // times advance in clock ticks, so this write waits for
                    // the tick after the one a.json arrived in.
                    let path = layout.incoming + "/a.json"
                    var info = stat()
                    _ = stat(path, &info)
                    try? waitUntil("the file clock to pass a.json's arrival") {
                        var now = timespec()
                        clock_gettime(CLOCK_REALTIME_COARSE, &now)
                        return (now.tv_sec, now.tv_nsec) > (info.st_ctim.tv_sec, info.st_ctim.tv_nsec)
                    }
                    try? Self.message(3).write(toFile: path, atomically: false, encoding: .utf8)
                }
            }
            return false
        }
        #expect(report.applied == 2)
        #expect(report.changedAfterReading == ["a.json"])
        #expect(report.waiting["a.json"] != nil)
        let left = try FileManager.default.contentsOfDirectory(atPath: layout.incoming)
        #expect(left == ["a.json"])

        // Read in its turn: the third message is applied, not lost.
        let again = try processor.process(["a.json"], now: Sys.now()) { false }
        #expect(again.applied == 1 && again.changedAfterReading.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: layout.incoming).isEmpty)
        #expect(try store.summary().messages.applied == 3)
    }

    /// A file with two names in incoming/ is one file: removing the first
    /// name changes its change time, not what the second name holds.
    @Test func bothNamesOfAHardLinkedFileGo() throws {
        let dir = TemporaryDirectory()
        let layout = try SpoolLayout(root: dir.path + "/spool")
        let store = try Store(path: dir.path + "/state.sqlite")
        let processor = try SpoolProcessor(layout: layout, store: store, settings: SpoolProcessor.Settings())
        try Self.drop(Self.message(1), as: "a.json", in: layout)
        #expect(link(layout.incoming + "/a.json", layout.incoming + "/b.json") == 0)
        let report = try processor.process(["a.json", "b.json"], now: Sys.now()) { false }
        #expect(report.applied == 1 && report.duplicates == 1)
        #expect(report.changedAfterReading.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: layout.incoming).isEmpty)
    }
}

/// One-message files are read ahead of their turn on other threads; what a
/// pass does must be what reading them in turn would do.
@Suite struct ReadAheadTests {
    @Test func aLongPassReadAheadLosesAndRepeatsNothing() throws {
        let dir = TemporaryDirectory()
        let layout = try SpoolLayout(root: dir.path + "/spool")
        let store = try Store(path: dir.path + "/state.sqlite")
        let processor = try SpoolProcessor(layout: layout, store: store, settings: SpoolProcessor.Settings())
        var names: [String] = []
        for n in 1...300 {
            let name = String(format: "m-%04d.json", n)
            names.append(name)
            switch n % 10 {
            case 3: try DisposalTests.drop("{not json \(n)", as: name, in: layout)  // quarantined
            case 7: break  // listed, but never there
            case 9: #expect(symlink("/etc/passwd", layout.incoming + "/" + name) == 0)  // set aside unread
            default: try DisposalTests.drop(DisposalTests.message(n), as: name, in: layout)
            }
        }
        // Stopped half way: what was read ahead past that point is dropped,
        // and read again by the next pass. A minute on, so that the broken
        // files are past the grace period a writer has to finish them.
        let later = Sys.now() + 60
        var handled = 0
        let first = try processor.process(names, now: later) {
            handled += 1
            return handled > 150
        }
        #expect(first.interrupted)
        #expect(first.applied == 105)
        let second = try processor.process(names, now: later) { false }
        #expect(second.applied == 105)
        #expect(try FileManager.default.contentsOfDirectory(atPath: layout.incoming).isEmpty)
        let messages = try store.summary().messages
        #expect(messages.applied == 210 && messages.rejected == 30 && messages.duplicates == 0)
        // The broken files and the symbolic links, each with its reason.
        let quarantined = try FileManager.default.contentsOfDirectory(atPath: layout.quarantine)
        #expect(quarantined.filter { !$0.hasPrefix(".") }.count == 60, "\(quarantined.sorted())")
    }
}

/// A test's own verifier: a signature is good when its first byte is the
/// signed bytes' length modulo 256 (the subject here is which verdict goes
/// with which line, not cryptography).
final class LengthJudge: SignatureVerifier {
    func keyCount(for origin: Slug) -> Int { 1 }
    func verify(_ signature: [UInt8], of message: [UInt8], by origin: Slug) -> Bool {
        signature.first == UInt8(message.count % 256)
    }
}

@Suite struct ParallelValidationTests {
    /// With signatures checked, a `.jsonl` chunk's lines are validated on
    /// every core at once; each copy must still get its own line's verdict,
    /// in file order, among broken and oversized lines.
    @Test func eachLineKeepsItsOwnVerdict() throws {
        let dir = TemporaryDirectory()
        var lines: [[UInt8]] = []
        for n in 1...700 {
            switch n % 7 {
            case 3: lines.append(Array("{broken \(n)".utf8))
            case 5 where n == 348: lines.append(Array(repeating: UInt8(ascii: "x"), count: 70_000))
            default:
                let object = try #require(try JSONReader.read(Array(DisposalTests.message(n).utf8)).objectValue)
                let signed = MessageReader.signedBytes(of: object)
                // Good for even lines, bad for odd ones.
                let first = UInt8(signed.count % 256) &+ (n % 2 == 0 ? 0 : 1)
                let sig = Base64.encode([first] + Array(repeating: UInt8(n % 256), count: 63))
                lines.append(JSONWriter.bytes(.object(JSONObject(object.members + [("sig", .string(sig))])), style: .compact))
            }
        }
        let name = "drop.jsonl"
        try Data(lines.joined(separator: [0x0A]) + [0x0A]).write(to: URL(fileURLWithPath: dir.path + "/" + name))
        let policy = ValidationPolicy(now: Sys.now(), signatures: SignatureRules(policy: .required, verifier: LengthJudge()))
        let directory = open(dir.path, O_RDONLY | O_DIRECTORY)
        defer { close(directory) }
        guard case .reader(let reader) = try MessageFileReader.open(at: directory, name, display: name, lines: true, policy: policy) else {
            Issue.record("not opened as a reader")
            return
        }
        var copies: [FileCopy] = []
        while case let more = try reader.next(limit: 10_000), !more.isEmpty { copies += more }
        #expect(copies.map(\.line) == Array(1...700))
        var good = 0
        for (copy, bytes) in zip(copies, lines) where bytes.count <= ValidationPolicy.maximumMessageBytes {
            let alone = MessageReader.read(bytes, policy: policy)
            #expect(copy.reading.identity == alone.identity, "line \(copy.line ?? 0)")
            #expect(copy.reading.rejection?.code == alone.rejection?.code, "line \(copy.line ?? 0)")
            if alone.rejection == nil { good += 1 }
        }
        #expect(copies[347].reading.rejection?.code == .tooLarge)
        #expect(good == 299)
    }
}
