import Foundation
import StrikeCore
import TestSupport
import Testing

/// `strikectl report` of the August 2020 story through the daemon, read as
/// HTML (scripts/test-report prints it with Chromium; this runs wherever
/// `swift test` does): the Summary's numbers in the language's format, every
/// section, the last day equal to the Summary, the delegate in custody, and
/// never a delegate's note.
@Suite(.serialized) struct ReportEndToEndTests {
    @Test func theStorysReport() throws {
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\n")
        let socket = fixture.directory.path + "/socket"
        try fixture.start(extra: ["--socket", socket])
        defer { _ = fixture.stop() }
        let examples = ManPage.path("examples")
        let files = try FileManager.default.contentsOfDirectory(atPath: examples)
            .filter { $0.hasSuffix(".json") || $0.hasSuffix(".jsonl") }.sorted()
        var notes: [String] = []
        for name in files {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: examples + "/" + name)))
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                if let range = line.range(of: #""note":""#), let end = line[range.upperBound...].firstIndex(of: "\"") {
                    notes.append(String(line[range.upperBound..<end]))
                }
            }
            try dropAtomically(bytes, name: name, tmpDir: fixture.tmp, dir: fixture.incoming)
        }
        #expect(notes.count >= 5)
        try waitUntil("incoming/ to be empty", timeout: 60) { fixture.names(fixture.incoming).isEmpty }
        let status = try runCommand(Binaries.strikectl, ["status", "--json", "--socket", socket])
        #expect(status.stdout.filter { !$0.isWhitespace }.hasPrefix(#"{"workplaces":4,"striking":4,"participants":3580,"#), "\(status.stdout)")

        // Belarusian by LANG; 3580 is not grouped in Belarusian (CLDR).
        let be = try runCommand(Binaries.strikectl, ["report", "--socket", socket],
                                environment: ["LANG": "be_BY.UTF-8", "PATH": "/usr/bin:/bin"])
        #expect(be.status == 0, "\(be.stderr)")
        let html = be.stdout
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"be\">"))
        for section in ["summary", "over-time", "regions", "delegation", "custody", "demands", "actions", "chase"] {
            #expect(html.contains("<section id=\"\(section)\">"), "\(section)")
        }
        #expect(html.contains("<span class=\"figure\">3580</span>"))
        // The state digest, as `strikectl status --digest` gives it.
        let digest = try runCommand(Binaries.strikectl, ["status", "--digest", "--json", "--socket", socket])
        guard case .string(let stateDigest)? = try JSONReader.read(Array(digest.stdout.utf8)).objectValue?["digest"] else {
            Issue.record("no digest in \(digest.stdout)")
            return
        }
        #expect(stateDigest.count == 64 && html.contains(stateDigest), "\(digest.stdout)")
        #expect(html.contains("дзейныя: 3; пад вартай: 1; зніклыя: 0; у выгнанні: 0; адкліканыя: 1; склалі паўнамоцтвы: 1"))
        #expect(html.contains("улічаныя: 55; паўторы: 0; адхіленыя: 0"))
        // The last day of the table is the Summary; heron is held.
        #expect(html.contains("<td>31 жніўня 2020\u{202F}г.</td><td class=\"n\">4</td><td class=\"n\">3580</td>"))
        #expect(html.contains("<td>heron</td><td>затрыманы</td>"))
        #expect(html.contains("national-strike-council"))
        for note in notes {
            #expect(!html.contains(note), "the note \(note) is in the report")
        }

        // --lang wins over LANG; --output is written readable by its owner only.
        let output = fixture.directory.path + "/report.html"
        let ru = try runCommand(Binaries.strikectl, ["report", "--lang", "ru", "--output", output, "--socket", socket],
                                environment: ["LANG": "be_BY.UTF-8", "PATH": "/usr/bin:/bin"])
        #expect(ru.status == 0 && ru.stdout.isEmpty, "\(ru.stderr)")
        let written = try String(contentsOfFile: output, encoding: .utf8)
        #expect(written.contains("<html lang=\"ru\">") && written.contains("<span class=\"figure\">3\u{A0}580</span>"))
        let mode = try FileManager.default.attributesOfItem(atPath: output)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(!FileManager.default.fileExists(atPath: output + ".tmp"))

        let bad = try runCommand(Binaries.strikectl, ["report", "--lang", "de", "--socket", socket])
        #expect(bad.status == 2 && bad.stderr.contains("--lang must be one of en, be, ru"), "\(bad.stderr)")
    }
}
