import Foundation
import StrikeCore
import TestSupport
import Testing

/// Reason files and copies in quarantine/, and `strikectl requeue`, through
/// the real daemon.
@Suite(.serialized) struct QuarantineEndToEndTests {
    static let junk = #"{"v":1,"origin":"mtz"}"#

    /// A copy named `a.reason` keeps its bytes when `a` is quarantined after
    /// it, and can be requeued (it was refused as a reason file's name);
    /// a quarantine written by an earlier version (`old.json.reason` beside
    /// `old.json`) still works: the old reason is no copy, and goes with its
    /// copy when that is requeued.
    @Test func reasonFilesAndCopiesNeverMeet() throws {
        let fixture = try DaemonFixture()
        try FileManager.default.createDirectory(atPath: fixture.quarantine, withIntermediateDirectories: true)
        try Self.junk.replacingOccurrences(of: "mtz", with: "old").write(toFile: fixture.quarantine + "/old.json", atomically: false, encoding: .utf8)
        try #"{"code":"missing-field","detail":"","original":"old.json"}"#.write(
            toFile: fixture.quarantine + "/old.json.reason", atomically: false, encoding: .utf8)
        let socket = fixture.directory.path + "/socket"
        try fixture.start(extra: ["--socket", socket])

        let first = Self.junk.replacingOccurrences(of: "mtz", with: "first")
        try dropAtomically(Array(first.utf8), name: "a.reason", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("a.reason to be quarantined") { fixture.names(fixture.quarantine).contains(".a.reason.reason") }
        try dropAtomically(Array(Self.junk.utf8), name: "a", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("a to be quarantined") { fixture.names(fixture.quarantine).contains(".a.reason") }
        #expect(try String(contentsOfFile: fixture.quarantine + "/a.reason", encoding: .utf8) == first)
        #expect(reasonCode(fixture, "a") == "missing-field")

        let requeued = try runCommand(Binaries.strikectl, ["requeue", "--socket", socket, "a.reason"])
        #expect(requeued.status == 0, "\(requeued.stderr)")
        #expect(requeued.stdout.contains("back in incoming/ as a.reason"), "\(requeued.stdout)")
        // Judged afresh: rejected again, quarantined again under its name.
        try waitUntil("a.reason to be judged again") {
            fixture.names(fixture.incoming).isEmpty && fixture.names(fixture.quarantine).contains(".a.reason.reason")
        }
        #expect(try String(contentsOfFile: fixture.quarantine + "/a.reason", encoding: .utf8) == first)

        let refused = try runCommand(Binaries.strikectl, ["requeue", "--socket", socket, "old.json.reason"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("is the reason file of the quarantined copy \"old.json\""), "\(refused.stderr)")
        let old = try runCommand(Binaries.strikectl, ["requeue", "--socket", socket, "old.json"])
        #expect(old.status == 0, "\(old.stderr)")
        try waitUntil("old.json to be judged again") {
            fixture.names(fixture.incoming).isEmpty && fixture.names(fixture.quarantine).contains(".old.json.reason")
        }
        #expect(!fixture.names(fixture.quarantine).contains("old.json.reason"), "the old reason went with its copy")
        #expect(reasonCode(fixture, "old.json") == "missing-field")
        #expect(fixture.stop() == 0)
    }

    /// A file over max_file_size, requeued, was deleted as a duplicate of
    /// itself (requeue looked for it under another identity than the one
    /// it was counted under) instead of being judged afresh.
    @Test func aRequeuedOversizedFileIsJudgedAfresh() throws {
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\nmax_file_size: 64KiB\n")
        let socket = fixture.directory.path + "/socket"
        try fixture.start(extra: ["--socket", socket])
        try dropAtomically([UInt8](repeating: UInt8(ascii: "x"), count: 100 << 10), name: "big.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("big.json to be quarantined") { fixture.names(fixture.quarantine).contains(".big.json.reason") }
        #expect(reasonCode(fixture, "big.json") == "too-large")
        let requeued = try runCommand(Binaries.strikectl, ["requeue", "--socket", socket, "big.json"])
        #expect(requeued.status == 0, "\(requeued.stderr)")
        try waitUntil("big.json to be judged again") {
            fixture.names(fixture.incoming).isEmpty && fixture.names(fixture.quarantine).contains(".big.json.reason")
        }
        #expect(fixture.names(fixture.quarantine).contains("big.json"))
        let summary = try fixture.summary()
        #expect(summary.contains("\"duplicates\":0,\"rejected\":1"), "forgotten, then rejected again: \(summary)")
        #expect(fixture.stop() == 0)
    }

    /// "Протокол" in CP1251, as a Windows USB stick names it.
    static let cp1251: [UInt8] = [0xCF, 0xF0, 0xEE, 0xF2, 0xEE, 0xEA, 0xEE, 0xEB]

    /// Creates `directory/name` (the name's bytes as they are) holding `text`.
    static func create(_ directory: String, name: [UInt8], _ text: String) throws {
        let path = Array(directory.utf8) + [UInt8(ascii: "/")] + name + [0]
        let fd = path.withUnsafeBytes { open($0.baseAddress!.assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT | O_EXCL, 0o644) }
        guard fd >= 0 else { throw TimeoutError(description: "cannot create a file in \(directory): errno \(errno)") }
        _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// The names in `directory` as bytes (FileManager would decode them).
    static func rawNames(_ directory: String) -> [[UInt8]] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name != [UInt8(ascii: ".")] && name != Array("..".utf8) { names.append(name) }
        }
        return names
    }

    /// A file whose name is not UTF-8 was decoded with replacement
    /// characters, opened nothing, and stayed in incoming/ for ever, unlogged.
    /// Now it is set aside unread under an escaped name, with a reason and a
    /// journal line, and read once requeued under that name; found by the
    /// first scan and by inotify alike.
    @Test func aNameThatIsNotUTF8IsSetAsideAndCanBeRequeued() throws {
        let fixture = try DaemonFixture()
        try FileManager.default.createDirectory(atPath: fixture.incoming, withIntermediateDirectories: true)
        let message = #"{"v":1,"origin":"mtz","seq":1,"sent_at":"2020-08-24T09:00:00Z","type":"strike.reported","data":{"workplace":"mtz","status":"strike","participants":300}}"#
        try Self.create(fixture.incoming, name: Self.cp1251 + Array(".json".utf8), message)
        // Hidden and temporary names stay ignored, whatever their bytes.
        try Self.create(fixture.incoming, name: [UInt8(ascii: ".")] + Self.cp1251 + Array(".json".utf8), "{}")
        let socket = fixture.directory.path + "/socket"
        try fixture.start(extra: ["--socket", socket])
        let escaped = "%CF%F0%EE%F2%EE%EA%EE%EB.json"
        try waitUntil("the first to be set aside") { fixture.names(fixture.quarantine).contains(escaped) }
        // While it runs: the inotify event names it by its bytes too.
        try Self.create(fixture.tmp, name: Self.cp1251 + Array("-2.json".utf8), "not even JSON")
        let from = Array(fixture.tmp.utf8) + [UInt8(ascii: "/")] + Self.cp1251 + Array("-2.json".utf8) + [0]
        let to = Array(fixture.incoming.utf8) + [UInt8(ascii: "/")] + Self.cp1251 + Array("-2.json".utf8) + [0]
        #expect(from.withUnsafeBytes { f in to.withUnsafeBytes { t in
            rename(f.baseAddress!.assumingMemoryBound(to: CChar.self), t.baseAddress!.assumingMemoryBound(to: CChar.self))
        } } == 0)
        let second = "%CF%F0%EE%F2%EE%EA%EE%EB-2.json"
        try waitUntil("the second to be set aside") { fixture.names(fixture.quarantine).contains(second) }
        #expect(Self.rawNames(fixture.incoming) == [[UInt8(ascii: ".")] + Self.cp1251 + Array(".json".utf8)], "only the hidden file is left")
        #expect(reasonCode(fixture, escaped) == "name-not-utf8")
        #expect(reasonCode(fixture, second) == "name-not-utf8")
        #expect(try String(contentsOfFile: fixture.quarantine + "/" + escaped, encoding: .utf8) == message, "moved unread, as it was")
        try waitUntil("the journal line") {
            fixture.logLines().contains { $0.contains("set aside \(escaped) unread (name-not-utf8)") }
        }
        let summary = try fixture.summary()
        #expect(summary.contains("\"rejected\":0") && summary.contains("\"applied\":0"), "set aside, not counted: \(summary)")

        let requeued = try runCommand(Binaries.strikectl, ["requeue", "--socket", socket, escaped])
        #expect(requeued.status == 0, "\(requeued.stderr)")
        try waitUntil("the requeued copy to be applied") { try fixture.summary().contains("\"participants\":300") }
        #expect(!fixture.names(fixture.quarantine).contains(escaped))
        #expect(!fixture.names(fixture.quarantine).contains(QuarantineNamesForTests.reason(of: escaped)))
        #expect(fixture.stop() == 0)
    }
}

/// The reason file's name, as `QuarantineNames.reason(of:)` (StrikeSpool) gives it.
enum QuarantineNamesForTests {
    static func reason(of name: String) -> String { "." + name + ".reason" }
}
