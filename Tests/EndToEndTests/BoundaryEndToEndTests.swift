import Foundation
import StrikeCore
import TestSupport
import Testing

private func integer(_ value: JSONValue?) -> Int64? {
    if case .number(let number)? = value { number.int64 } else { nil }
}

/// Integers at their edges through the real binaries.
@Suite struct BoundaryEndToEndTests {
    /// The crash loop of issue 13, as reported: an unsigned file numbered
    /// 2^63 - 1 with a broken body, then a genuine signed message of the same
    /// origin, each by `strikecd ingest --signatures required`. Before, the
    /// first counted as arrived and the second trapped (signal 4) on
    /// `highest + 1`, at every run.
    @Test func aForgedTopSeqDoesNotStopTheNextIngest() throws {
        let keys = try Keys(origins: ["mtz"])
        let scratch = keys.directory.path
        let forged = scratch + "/forged.json"
        try #"{"v":1,"origin":"mtz","seq":9223372036854775807,"sent_at":"2020-08-24T09:30:00Z","type":"strike.reported","data":{"workplace":"mtz","status":"bogus"}}"#
            .write(toFile: forged, atomically: true, encoding: .utf8)
        _ = try keys.new(["strike.reported", "--origin", "mtz", "--workplace", "mtz", "--status", "strike", "--participants", "300"],
                         to: scratch + "/genuine.json")
        let database = scratch + "/state.sqlite"
        func ingest(_ file: String) throws -> (status: Int32, stdout: String, stderr: String) {
            try runCommand(Binaries.strikecd, ["ingest", "--database", database, "--signatures", "required", "--keyring", keys.keyring, file])
        }
        let first = try ingest(forged)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("unsigned"), "\(first.stderr)")
        let second = try ingest(scratch + "/genuine.json")
        #expect(second.status == 0, "\(second.stderr)")
        let summary = try #require(try JSONReader.read(Array(second.stdout.utf8)).objectValue)
        #expect(integer(summary["participants"]) == 300, "\(second.stdout)")
    }

    /// Any future skew on the command line gives verdicts, never a trap:
    /// 2^63 - 1 seconds is no limit, -2^63 refuses every time.
    @Test(arguments: [("9223372036854775807", 1, 0), ("-9223372036854775808", 0, 1), ("0", 1, 0)])
    func extremeFutureSkews(skew: String, applied: Int, rejected: Int) throws {
        let directory = TemporaryDirectory("strikecd-skew")
        let file = directory.path + "/m.json"
        try #"{"v":1,"origin":"mtz","seq":1,"sent_at":"2020-08-24T09:30:00Z","type":"strike.reported","data":{"workplace":"mtz","status":"strike"}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let result = try runCommand(Binaries.strikecd, ["ingest", "--database", directory.path + "/s.sqlite", "--signatures", "off",
                                                        "--max-future-skew=\(skew)", file])
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try #require(try JSONReader.read(Array(result.stdout.utf8)).objectValue)
        #expect(integer(summary["messages"]?.objectValue?["applied"]) == Int64(applied), "\(result.stdout)")
        #expect(integer(summary["messages"]?.objectValue?["rejected"]) == Int64(rejected), "\(result.stdout)")
    }
}
