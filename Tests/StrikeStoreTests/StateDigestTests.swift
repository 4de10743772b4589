import Foundation
import StrikeCore
@testable import StrikeStore
import TestSupport
import Testing

/// `Store.stateDigest`: two stores agree exactly when their digests match.
@Suite struct StateDigestTests {
    static func message(_ origin: String, _ seq: Int, _ workplace: String, status: String = "strike") -> [UInt8] {
        Array("""
            {"v":1,"origin":"\(origin)","seq":\(seq),"sent_at":"2023-11-01T09:00:00Z","type":"strike.reported",\
            "data":{"workplace":"\(workplace)","status":"\(status)","participants":\(seq * 10)}}
            """.utf8)
    }

    static func digest(_ copies: [[UInt8]], at path: String, rng: inout SplitMix) throws -> StateDigest {
        let store = try Store(path: path)
        try ingest(copies, into: store, rng: &rng)
        return try store.read { db in try Store.stateDigest(db) }
    }

    /// The same messages in other orders, other splits into batches, with
    /// duplicates, and with or without junk: the same digest.
    @Test(arguments: [1, 2, 3] as [UInt64]) func sameMessagesGiveTheSameDigest(seed: UInt64) throws {
        let corpus = Corpus(seed: seed, messages: 300, conflictOneIn: 6, rivals: 1...2)
        let directory = TemporaryDirectory()
        var rng = SplitMix(seed: seed)
        let a = try Self.digest(corpus.copies, at: directory.path + "/a.sqlite", rng: &rng)
        let b = try Self.digest(corpus.copies.reversed(), at: directory.path + "/b.sqlite", rng: &rng)
        let c = try Self.digest(corpus.copies.shuffled(using: &rng) + corpus.copies.prefix(50), at: directory.path + "/c.sqlite", rng: &rng)
        // What another node holds: the valid copies alone (junk never travels).
        let valid = corpus.copies.filter { reading($0).message != nil }
        #expect(valid.count < corpus.copies.count, "the corpus has junk")
        let d = try Self.digest(valid.shuffled(using: &rng), at: directory.path + "/d.sqlite", rng: &rng)
        #expect(a.sha256.count == 64 && a.sha256.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(a == b)
        #expect(a == c)
        #expect(a == d)
        #expect(a.applied > 100)
    }

    /// One message more, one message different (a conflict), one message
    /// fewer: another digest each time.
    @Test func oneDifferentMessageGivesAnotherDigest() throws {
        let directory = TemporaryDirectory()
        var rng = SplitMix(seed: 9)
        let base = (1...40).map { Self.message("minsk", $0, "mtz-\($0 % 7)") }
        let same = try Self.digest(base, at: directory.path + "/base.sqlite", rng: &rng)
        let more = try Self.digest(base + [Self.message("gomel", 1, "gomselmash")], at: directory.path + "/more.sqlite", rng: &rng)
        let fewer = try Self.digest(Array(base.dropLast()), at: directory.path + "/fewer.sqlite", rng: &rng)
        // A rival of minsk #3 puts both in conflict: the state loses #3.
        let rival = try Self.digest(base + [Self.message("minsk", 3, "mtz-3", status: "working")], at: directory.path + "/rival.sqlite", rng: &rng)
        // Only a field that no total counts differs (minsk #40's status,
        // a workplace whose greatest-key report it is).
        let changed = try Self.digest(Array(base.dropLast()) + [Self.message("minsk", 40, "mtz-5", status: "partial")],
                                      at: directory.path + "/changed.sqlite", rng: &rng)
        let all = [same, more, fewer, rival, changed].map(\.sha256)
        #expect(Set(all).count == all.count, "\(all)")
        #expect(same.applied == 40 && rival.applied == 39)
    }

    /// Values are self-delimiting: strings that contain the separators of a
    /// naive text dump cannot make two states serialise alike.
    @Test func stringsCannotForgeTheFraming() throws {
        let directory = TemporaryDirectory()
        var rng = SplitMix(seed: 3)
        func report(_ name: String, _ town: String) -> [UInt8] {
            Array(JSONWriter.string(.object(JSONObject([
                ("v", .number(JSONNumber(1))), ("origin", .string("minsk")), ("seq", .number(JSONNumber(1))),
                ("sent_at", .string("2023-11-01T09:00:00Z")), ("type", .string("workplace.reported")),
                ("data", .object(JSONObject([("workplace", .string("mtz")), ("name", .string(name)), ("town", .string(town))]))),
            ]))).utf8)
        }
        let x = try Self.digest([report("a | b", "c")], at: directory.path + "/x.sqlite", rng: &rng)
        let y = try Self.digest([report("a", "b | c")], at: directory.path + "/y.sqlite", rng: &rng)
        #expect(x != y)
    }
}
