import Foundation
import StrikeCore
import StrikeOS
import StrikeSpool
import StrikeStore
import TestSupport
import Testing

/// Names in quarantine/: a copy's own name and its reason file's never meet.
@Suite struct QuarantineTests {
    /// Valid JSON that is not a message: rejected at once, young or not.
    static let junk = #"{"v":1,"origin":"mtz"}"#

    static func reason(_ layout: SpoolLayout, of name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: layout.quarantine + "/" + QuarantineNames.reason(of: name)))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Quarantining `a` after `a.reason` wrote `a`'s reason over the copy
    /// `a.reason`, whose bytes were lost.
    @Test func aCopyNamedLikeAReasonFileKeepsItsBytes() throws {
        let dir = TemporaryDirectory()
        let layout = try SpoolLayout(root: dir.path + "/spool")
        let store = try Store(path: dir.path + "/state.sqlite")
        let processor = try SpoolProcessor(layout: layout, store: store, settings: SpoolProcessor.Settings())
        let first = Self.junk.replacingOccurrences(of: "mtz", with: "first")
        try DisposalTests.drop(first, as: "a.reason", in: layout)
        _ = try processor.process(["a.reason"], now: Sys.now()) { false }
        try DisposalTests.drop(Self.junk, as: "a", in: layout)
        _ = try processor.process(["a"], now: Sys.now()) { false }

        #expect(try String(contentsOfFile: layout.quarantine + "/a.reason", encoding: .utf8) == first)
        #expect(try String(contentsOfFile: layout.quarantine + "/a", encoding: .utf8) == Self.junk)
        #expect(try Self.reason(layout, of: "a")["original"] as? String == "a")
        #expect(try Self.reason(layout, of: "a.reason")["original"] as? String == "a.reason")
        #expect(try Self.reason(layout, of: "a.reason")["code"] as? String == "missing-field")
        #expect(QuarantineNames.reasonFile(of: "a.reason", in: layout.quarantineFD) == ".a.reason.reason")
        #expect(!QuarantineNames.isLegacyReason("a.reason", in: layout.quarantineFD))
    }

    /// Reasons written by earlier versions (`X.reason` beside `X`) are still
    /// found, and told apart from a copy that ends in `.reason`.
    @Test func olderReasonFilesAreFound() throws {
        let dir = TemporaryDirectory()
        let layout = try SpoolLayout(root: dir.path + "/spool")
        for (name, text) in [("old.json", Self.junk), ("old.json.reason", #"{"code":"missing-field"}"#)] {
            try text.write(toFile: layout.quarantine + "/" + name, atomically: false, encoding: .utf8)
        }
        #expect(QuarantineNames.reasonFile(of: "old.json", in: layout.quarantineFD) == "old.json.reason")
        #expect(QuarantineNames.isLegacyReason("old.json.reason", in: layout.quarantineFD))
        #expect(QuarantineNames.reasonFile(of: "missing.json", in: layout.quarantineFD) == nil)
        // A copy named `old.json.reason` has a reason of its own: not an old one.
        try "{}".write(toFile: layout.quarantine + "/.old.json.reason.reason", atomically: false, encoding: .utf8)
        #expect(!QuarantineNames.isLegacyReason("old.json.reason", in: layout.quarantineFD))
        #expect(QuarantineNames.reasonFile(of: "old.json", in: layout.quarantineFD) == nil)
    }

    /// A rejected file whose name leaves no room for `.NAME.reason` within
    /// NAME_MAX (255 bytes) made every pass fail with ENAMETOOLONG, so that
    /// nothing after it in the spool was ever read.
    @Test(arguments: [(248, ".json"), (255, ".json"), (250, ".jsonl")])
    func aRejectedFileWithALongNameIsQuarantined(length: Int, suffix: String) throws {
        let dir = TemporaryDirectory()
        let layout = try SpoolLayout(root: dir.path + "/spool")
        let store = try Store(path: dir.path + "/state.sqlite")
        let processor = try SpoolProcessor(layout: layout, store: store, settings: SpoolProcessor.Settings())
        let stem = length - suffix.utf8.count
        let name = String(repeating: "ж", count: stem / 2) + String(repeating: "x", count: stem % 2) + suffix
        #expect(name.utf8.count == length)
        try DisposalTests.drop(Self.junk + "\n", as: name, in: layout)
        try DisposalTests.drop(Self.junk.replacingOccurrences(of: "mtz", with: "short"), as: "short.json", in: layout)
        let report = try processor.process([name, "short.json"], now: Sys.now() + 60) { false }
        #expect(report.rejected.count == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: layout.incoming).isEmpty)
        let written = try #require(report.rejected.first { $0.file == name }?.quarantinedAs)
        #expect(written.utf8.count < 230 && written.hasSuffix(suffix == ".json" ? ".json" : ".line-1"), "\(written)")
        #expect(written.hasPrefix(String(name.prefix(80))))
        #expect(try String(contentsOfFile: layout.quarantine + "/" + written, encoding: .utf8).hasPrefix(Self.junk))
        #expect(try Self.reason(layout, of: written)["original"] as? String == name)
    }

    @Test(arguments: [
        ([0xCF, 0xF0, 0x2E, 0x6A], "%CF%F0.j"),
        ([0xD0, 0xB6, 0xFF], "ж%FF"),
        ([0xD0], "%D0"),
        ([0x61, 0x25, 0x01, 0xC0, 0xAF], "a%25%01%C0%AF"),
        ([0xF0, 0x9F, 0x98, 0x80, 0xED, 0xA0, 0x80], "😀%ED%A0%80"),
    ] as [([UInt8], String)])
    func escapedNames(bytes: [UInt8], escaped: String) {
        let name = FileName(bytes)
        #expect(name.text == nil)
        #expect(name.bytes == bytes)
        #expect(name.escaped == escaped)
        #expect(FileName(Array("a%b".utf8)).escaped == "a%25b")
    }
}
