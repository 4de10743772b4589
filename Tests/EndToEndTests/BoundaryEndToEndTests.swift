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

    /// `strikecd ingest` reads a `.jsonl` file's next chunk while a batch
    /// commits: with batches of 1, 7 and 10,000 lines, the same lines give the
    /// same Summary and the same rejected lines, named by their line numbers,
    /// in file order (duplicates, a broken line, a conflict and lines of
    /// several origins interleaved, across two files).
    @Test func ingestBatchSizesGiveOneResult() throws {
        let directory = TemporaryDirectory("strikecd-ingest-batches")
        var lines: [[String]] = [[], []]
        for seq in 1...60 {
            for (index, origin) in ["mtz", "bmz", "grodno-azot"].enumerated() {
                let line = #"{"v":1,"origin":"\#(origin)","seq":\#(seq),"sent_at":"2020-08-\#(10 + seq % 15)T09:30:00Z","type":"strike.reported","data":{"workplace":"\#(origin)","status":"strike","participants":\#(seq * 10 + index)}}"#
                lines[seq % 2].append(line)
                if seq % 13 == 0 { lines[1 - seq % 2].append(line) }
            }
        }
        lines[0].insert(#"{"v":1,"origin":"mtz","seq":"#, at: 17)
        lines[1].insert(#"{"v":1,"origin":"mtz","seq":5,"sent_at":"2020-08-24T09:30:00Z","type":"strike.reported","data":{"workplace":"mtz","status":"working"}}"#, at: 40)
        let files = try lines.enumerated().map { index, body in
            let file = directory.path + "/part\(index).jsonl"
            try (body.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            return file
        }
        var results: [(summary: String, rejected: [String])] = []
        for size in ["1", "7", "10000"] {
            let result = try runCommand(Binaries.strikecd, ["ingest", "--database", directory.path + "/s\(size).sqlite", "--signatures", "off",
                                                            "--batch-size", size] + files)
            #expect(result.status == 0, "\(result.stderr)")
            results.append((result.stdout, result.stderr.split(separator: "\n").map(String.init).filter { $0.contains(".jsonl:") }))
        }
        let summary = try #require(try JSONReader.read(Array(results[2].summary.utf8)).objectValue)
        // 180 distinct lines, of which mtz #5 is in conflict with a rival
        // version: neither applies; 4 seqs of 3 origins copied twice.
        #expect(integer(summary["messages"]?.objectValue?["applied"]) == 179, "\(results[2].summary)")
        #expect(integer(summary["messages"]?.objectValue?["rejected"]) == 3, "\(results[2].summary)")
        #expect(integer(summary["messages"]?.objectValue?["duplicates"]) == 12, "\(results[2].summary)")
        #expect(results[2].rejected.count == 2, "\(results[2].rejected)")
        #expect(results[2].rejected.first?.contains("part0.jsonl:18:") == true, "\(results[2].rejected)")
        for other in results.dropLast() {
            #expect(other.summary == results[2].summary)
            #expect(other.rejected == results[2].rejected)
        }
    }
}
