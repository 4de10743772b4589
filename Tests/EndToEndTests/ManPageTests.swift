import Foundation
import StrikeConfig
import StrikeCore
import TestSupport
import Testing

// man/strikecd.8 and man/strikecd.yaml.5 are hand-written roff. These tests keep
// them true to the code: every option the real binary's help shows, every
// setting the configuration accepts (with its shipped default), every reason
// code and every journal MESSAGE_ID is described, and both pages render
// without a single warning from man(1) and groff(1).

/// The man pages, read from the repository (found relative to this file).
enum ManPage {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // EndToEndTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    static func source(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }

    /// Roff as a reader sees the words: `\-` is `-`; font changes, `\&`, `\%`
    /// and `\c` are dropped; `\(ti` is `~`.
    static func plain(_ roff: String) -> String {
        var text = roff
        for (escape, replacement) in [("\\-", "-"), ("\\&", ""), ("\\%", ""), ("\\c", ""), ("\\(ti", "~"), ("\\e", "\\")] {
            text = text.replacingOccurrences(of: escape, with: replacement)
        }
        // \fB, \fI, \fR, \fP, \f(CW, \f[…]
        return text.replacingOccurrences(of: #"\\f(\[[^\]]*\]|\(..|.)"#, with: "", options: .regularExpression)
    }

    /// The text under each heading made with `macro` (`.SH` or `.SS`), keyed
    /// by the heading without quotes. A `.SH` section includes its `.SS`
    /// subsections; a `.SS` subsection ends at the next `.SS` or `.SH`.
    static func sections(_ roff: String, macro: String) -> [String: String] {
        var result: [String: String] = [:]
        var current: String?
        for line in roff.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(".SH") || line.hasPrefix(macro) {
                current = nil
                if line.hasPrefix(macro + " ") {
                    let heading = plain(String(line.dropFirst(macro.count + 1))).replacingOccurrences(of: "\"", with: "")
                    current = heading
                    result[heading] = ""
                }
                continue
            }
            if let current { result[current, default: ""] += line + "\n" }
        }
        return result
    }

    /// The tags of a `.TP` list: the line after each `.TP` (and `.TQ`),
    /// made plain, without its macro and quotes, whitespace collapsed.
    static func tags(_ roff: String) -> [String] {
        let lines = roff.split(separator: "\n", omittingEmptySubsequences: false)
        var tags: [String] = []
        for (index, line) in lines.enumerated() where (line == ".TP" || line == ".TQ") && index + 1 < lines.count {
            var tag = plain(String(lines[index + 1]))
            if tag.hasPrefix(".") { tag = String(tag.drop { $0 != " " }) }
            tags.append(tag.replacingOccurrences(of: "\"", with: "").split(separator: " ").joined(separator: " "))
        }
        return tags
    }

    /// Whether `word` occurs in `text` as a whole word: not followed by a
    /// letter, digit, `-` or `_` (so `--log` is not found in `--log-level`).
    static func contains(_ text: String, word: String) -> Bool {
        var rest = text[...]
        while let range = rest.range(of: word) {
            let after = rest[range.upperBound...].first
            if after.map({ !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) ?? true { return true }
            rest = rest[range.upperBound...]
        }
        return false
    }
}

/// An executable found on PATH, like `command -v`.
func executableOnPath(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

@Suite struct ManPageTests {
    static let commands = ["run", "ingest", "check", "check-config", "import"]

    /// The long options `strikecd COMMAND --help` lists.
    static func longOptions(_ command: String) throws -> [String] {
        let help = try runCommand(Binaries.strikecd, [command, "--help"])
        #expect(help.status == 0, "strikecd \(command) --help: \(help.stderr)")
        let pattern = try NSRegularExpression(pattern: #"^\s+(?:-[A-Za-z], )?(--[a-z][a-z0-9-]*)"#, options: .anchorsMatchLines)
        let text = help.stdout
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
            String(text[Range($0.range(at: 1), in: text)!])
        }
    }

    /// Every long option of every command is described in that command's
    /// section of strikecd(8), or among the options of every command.
    @Test(arguments: commands) func everyOptionIsDocumented(_ command: String) throws {
        let page = try ManPage.source("man/strikecd.8")
        let sections = ManPage.sections(page, macro: ".SS")
        let own = try #require(sections["strikecd \(command)"], "strikecd.8 has no section .SS \"strikecd \(command)\"")
        let common = try #require(sections["Options of every command"], "strikecd.8 has no section .SS \"Options of every command\"")
        let options = try Self.longOptions(command)
        #expect(options.count >= 3, "no options found in the help of \(command)")
        for option in options {
            #expect(
                ManPage.contains(ManPage.plain(own), word: option) || ManPage.contains(ManPage.plain(common), word: option),
                "strikecd \(command) \(option) is not described in man/strikecd.8"
            )
            #expect(ManPage.contains(ManPage.plain(Self.synopsis(page)), word: option) || ["--help", "--version"].contains(option),
                    "strikecd \(command) \(option) is missing from the SYNOPSIS of man/strikecd.8")
        }
    }

    static func synopsis(_ page: String) -> String {
        ManPage.sections(page, macro: ".SH")["SYNOPSIS"] ?? ""
    }

    /// Every command has its line in the SYNOPSIS.
    @Test func everyCommandInSynopsis() throws {
        let synopsis = ManPage.plain(Self.synopsis(try ManPage.source("man/strikecd.8")))
        for command in Self.commands where command != "run" {
            #expect(synopsis.contains(".B strikecd \(command)"), "no synopsis line for strikecd \(command)")
        }
        #expect(synopsis.contains(".RB [ run ]"))
    }

    /// Every setting has its own entry in SETTINGS of strikecd.yaml(5), with
    /// the default the shipped file gives, and nothing else is described there.
    @Test func everySettingIsDocumented() throws {
        let page = try ManPage.source("man/strikecd.yaml.5")
        let settings = try #require(ManPage.sections(page, macro: ".SH")["SETTINGS"], "strikecd.yaml.5 has no SETTINGS section")
        let tags = ManPage.tags(settings)
        let documented = tags.map { String($0.prefix { $0 != " " }) }
        #expect(documented.sorted() == DaemonConfig.settingNames.sorted(), "the settings described in man/strikecd.yaml.5 are not those of DaemonConfig")
        #expect(Set(documented).count == documented.count, "a setting is described twice")

        let shipped = try Self.shippedSettings()
        #expect(shipped.map(\.key) == DaemonConfig.settingNames, "config/strikecd.yaml and DaemonConfig.settingNames differ")
        for (key, value) in shipped {
            let tag = tags.first { $0.hasPrefix(key + " ") }
            #expect(tag?.contains("default \(value)") == true, "man/strikecd.yaml.5: \(key) should say \"default \(value)\" (got \(tag ?? "nothing"))")
        }
    }

    /// The shipped file, shown in EXAMPLES, is the shipped file.
    @Test func shippedFileInExamples() throws {
        let page = try ManPage.source("man/strikecd.yaml.5")
        let examples = try #require(ManPage.sections(page, macro: ".SH")["EXAMPLES"])
        let block = examples.components(separatedBy: ".EX\n").dropFirst().first?.components(separatedBy: ".EE").first ?? ""
        let shown = ManPage.plain(block).split(separator: "\n").map(String.init)
        #expect(shown == (try Self.shippedSettings()).map { "\($0.key): \($0.value)" })
    }

    /// `key: value` lines of config/strikecd.yaml, in order.
    static func shippedSettings() throws -> [(key: String, value: String)] {
        try ManPage.source("config/strikecd.yaml").split(separator: "\n").compactMap { line in
            guard let match = line.wholeMatch(of: /([a-z_]+): (.+)/) else { return nil }
            return (String(match.1), String(match.2))
        }
    }

    /// Every reason code is explained under "Reason codes", and only those.
    @Test func everyReasonCodeIsDocumented() throws {
        let page = try ManPage.source("man/strikecd.8")
        let section = try #require(ManPage.sections(page, macro: ".SS")["Reason codes"], "strikecd.8 has no .SS \"Reason codes\"")
        #expect(ManPage.tags(section).sorted() == ReasonCode.allCases.map(\.rawValue).sorted())
    }

    /// Every journal event of the catalog is listed under LOGGING with its
    /// MESSAGE_ID.
    @Test func everyJournalEventIsDocumented() throws {
        let logging = try #require(ManPage.sections(try ManPage.source("man/strikecd.8"), macro: ".SH")["LOGGING"])
        let documented = Set(ManPage.tags(logging).compactMap { tag -> String? in
            let words = tag.split(separator: " ")
            return words.count == 2 && words[1].count == 32 ? String(words[1]) : nil
        })
        let catalog = try ManPage.source("systemd/strikecd.catalog").split(separator: "\n").compactMap { line in
            line.wholeMatch(of: /-- ([0-9a-f]{32})/).map { String($0.1) }
        }
        #expect(catalog.count >= 10)
        #expect(documented == Set(catalog), "MESSAGE_IDs in man/strikecd.8 and systemd/strikecd.catalog differ")
    }

    static let pages = ["man/strikecd.8", "man/strikecd.yaml.5"]

    /// man(1) renders each page without a warning.
    @Test(.enabled(if: executableOnPath("man") != nil, "man(1) is not installed (scripts/setup installs man-db)"), arguments: pages)
    func rendersWithoutWarningsInMan(_ page: String) throws {
        let result = try runCommand(executableOnPath("man")!, ["--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", ManPage.path(page)])
        let warnings = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("man: can't set the locale") }
        #expect(result.status == 0 && warnings.isEmpty, "man --warnings \(page):\n\(result.stderr)")
        #expect(!result.stdout.isEmpty)
    }

    /// groff with every warning enabled renders each page silently.
    @Test(.enabled(if: executableOnPath("groff") != nil, "groff(1) is not installed (scripts/setup installs groff-base)"), arguments: pages)
    func rendersWithoutWarningsInGroff(_ page: String) throws {
        let result = try runCommand(executableOnPath("groff")!, ["-man", "-ww", "-z", ManPage.path(page)])
        #expect(result.status == 0 && result.stderr.isEmpty, "groff -man -ww \(page):\n\(result.stderr)")
    }

    /// The helpers find what they should, so that the tests above can fail.
    @Test func helpersWork() {
        #expect(ManPage.plain(#".BR \-\-log\-level " \fIlevel\fR""#) == #".BR --log-level " level""#)
        #expect(ManPage.contains("use --log-level here", word: "--log-level"))
        #expect(!ManPage.contains("use --log-level here", word: "--log"))
        #expect(ManPage.contains("--log auto", word: "--log"))
        #expect(ManPage.tags(".TP\n.BR spool \" (path; default \" /var/spool )\ntext\n") == ["spool (path; default /var/spool )"])
    }
}
