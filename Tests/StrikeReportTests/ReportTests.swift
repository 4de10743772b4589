import Foundation
import StrikeCore
import StrikeReport
import Testing

/// The repository's root, found from this file, so the tests run from any directory.
private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A small state with hostile texts wherever a message can put text.
func sampleInput() -> ReportInput {
    var input = ReportInput(generatedAt: 1_598_900_000)
    input.numbers.workplaces = 2
    input.numbers.striking = 2
    input.numbers.participants = 12_345
    input.numbers.delegatesDetained = 1
    input.newest = "2020-08-31T15:00:00Z"
    var day = HistoryPoint(start: 1_598_227_200)
    (day.striking, day.participants, day.taken, day.detained) = (2, 12_345, 1, 1)
    input.history = [HistoryPoint(start: 1_598_140_800), day]
    input.regions = [ReportInput.Region(name: "<script>alert(1)</script>", workplaces: 2, striking: 2, participants: 12_345)]
    input.regionHistory = [("<script>alert(1)</script>", [0, 1])]
    input.tree = [
        ReportInput.TreeRow(depth: 0, body: "nation", level: "national", isWorkplace: false, delegate: nil, mandate: nil),
        ReportInput.TreeRow(depth: 1, body: "x\"onload=alert(1)", level: nil, isWorkplace: true, delegate: "rook", mandate: "active"),
    ]
    input.custody = [ReportInput.Custody(pseudonym: "rook", status: "arrested", since: "2020-08-24T16:00:00Z", until: "2020-09-08")]
    input.demands = [ReportInput.Demand(
        id: "wages", text: "Pay <b>us</b> & \"them\"", category: "economic", supporters: 1,
        outcomes: ["won": 1], workplaces: [("mtz", true, "won")], moreWorkplaces: 3)]
    input.actions = [ReportInput.Action(
        id: "general-strike", kind: "general-strike", startsAt: "2020-08-24T00:00:00+03:00", hours: 48, joined: 1,
        participants: 300, workplaces: [("<img src=x onerror=alert(1)>", 300)], moreWorkplaces: 0)]
    input.gaps = [ReportInput.Gap(origin: "mtz", first: 3, last: 4)]
    input.irregular = [ReportInput.Irregular(kind: "bodies", delegate: "wren", council: "city", messages: ["mtz#5", "bmz#2"])]
    return input
}

@Suite struct ReportTests {
    /// A translator edits the .strings files; the binary carries them
    /// verbatim (Translations/embed.sh).
    @Test(arguments: ReportLanguage.allCases)
    func theEmbeddedTextIsTheFile(language: ReportLanguage) throws {
        let file = try Data(contentsOf: root.appendingPathComponent("Sources/StrikeReport/Translations/\(language.rawValue).strings"))
        let embedded = try #require(TranslationTexts.all.first { $0.language == language.rawValue }?.text)
        #expect(Array(embedded.utf8) == Array(file), "run Sources/StrikeReport/Translations/embed.sh")
    }

    /// Every language has exactly English's keys, none empty, and the same
    /// placeholders in each text.
    @Test(arguments: [ReportLanguage.be, .ru])
    func everyKeyIsTranslated(language: ReportLanguage) {
        let english = ReportLanguage.en.strings.entries
        let other = language.strings.entries
        #expect(Set(other.keys).subtracting(english.keys).sorted() == [], "keys \(language) has that English lacks")
        #expect(Set(english.keys).subtracting(other.keys).sorted() == [], "keys \(language) lacks")
        func placeholders(_ text: String) -> Set<String> {
            Set(text.split(separator: "{").dropFirst().compactMap { $0.split(separator: "}", maxSplits: 1).first.map(String.init) })
        }
        for (key, text) in english {
            guard let translated = other[key] else { continue }
            #expect(!translated.isEmpty, "\(language) \(key) is empty")
            #expect(placeholders(translated) == placeholders(text), "\(language) \(key)")
            if key != "title" && key.hasPrefix("section.") == false && text.count > 12 {
                #expect(translated != text, "\(language) \(key) is still English")
            }
        }
    }

    /// Every key the renderer asks for exists: a rendered report shows no
    /// raw key (a missing one would show as itself).
    @Test(arguments: ReportLanguage.allCases)
    func noKeyIsMissingWhenRendering(language: ReportLanguage) {
        let html = ReportRenderer(sampleInput(), language: language).render()
        for key in ReportLanguage.en.strings.entries.keys where key.contains(".") {
            #expect(!html.contains(">" + key) && !html.contains(" " + key + "<"), "\(key) shown raw in \(language)")
        }
        for prefix in ["safety.", "outcome.", "kind.", "level.", "mandate.", "irregular.", "category.", "section.", "chart.", "column."] {
            #expect(!html.contains(prefix + "a") && !html.contains(prefix + "d") && !html.contains(prefix + "w"), "\(prefix) in \(language)")
        }
    }

    /// Texts from messages are shown as written, never parsed as markup.
    @Test func everyTextFromMessagesIsEscaped() {
        let html = ReportRenderer(sampleInput(), language: .en).render()
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("<b>us"))
        #expect(!html.contains("\"onload="))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("x&quot;onload=alert(1)"))
        #expect(html.contains("Pay &lt;b&gt;us&lt;/b&gt; &amp; &quot;them&quot;"))
        #expect(escapeHTML("a'b\u{1}") == "a&#39;b\u{FFFD}")
    }

    /// Self-contained: a strict CSP first in the head, no script, no URL
    /// but the SVG namespace (an identifier that is never fetched).
    @Test(arguments: ReportLanguage.allCases)
    func theDocumentLoadsNothing(language: ReportLanguage) throws {
        let html = ReportRenderer(sampleInput(), language: language).render()
        let csp = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        let head = try #require(html.range(of: "<head>"))
        #expect(html[head.upperBound...].hasPrefix("<meta charset=\"utf-8\">" + csp))
        #expect(!html.lowercased().contains("<script"))
        // No tag has a src or href (the sample's `<img src=x` is text, escaped).
        let tags = html.split(separator: "<").map { $0.prefix { $0 != ">" } }
        #expect(!tags.contains { $0.contains("src=") || $0.contains("href=") || $0.contains("action=") })
        #expect(!html.contains("url("))
        #expect(!html.contains("@import"))
        let urls = html.components(separatedBy: "http").dropFirst().map { String($0.prefix(30)) }
        #expect(urls.allSatisfy { $0.hasPrefix("://www.w3.org/2000/svg\"") || $0.hasPrefix("-equiv") }, "\(urls)")
        #expect(html.contains("<html lang=\"\(language.rawValue)\">"))
        #expect(html.contains("@page{size:A4"))
        for section in ReportRenderer.sections {
            #expect(html.contains("<section id=\"\(section)\">"), "\(section)")
        }
    }

    /// Charts have a title and a description, a text table of the same
    /// numbers, and tell their series apart without colour.
    @Test func chartsAreAccessible() {
        let html = ReportRenderer(sampleInput(), language: .en).render()
        #expect(html.components(separatedBy: "<svg ").count == 3)
        #expect(html.components(separatedBy: "<title id=").count == 3)
        #expect(html.components(separatedBy: "<desc id=").count == 3)
        #expect(html.contains("role=\"img\""))
        #expect(html.contains("stroke-dasharray:7 4"), "the second series is dashed")
        #expect(html.contains("class=\"mark\""), "the called action is marked")
        #expect(html.contains("<td class=\"n\">12,345</td>"), "the table repeats the numbers")
        #expect(!html.contains("#f00") && !html.contains("red"))
    }

    /// Strikes per day by region: a column per region given, and the rest
    /// (workplaces of other regions or none) in one more.
    @Test func regionsOverTime() {
        let html = ReportRenderer(sampleInput(), language: .en).render()
        #expect(html.contains("<caption>Workplaces on strike at the end of each day, by region</caption>"))
        #expect(html.contains("<th scope=\"col\" class=\"n\">&lt;script&gt;alert(1)&lt;/script&gt;</th>"))
        #expect(html.contains("<td>24 Aug</td><td class=\"n\">1</td><td class=\"n\">1</td>"), "1 in the region, 1 elsewhere")
    }

    /// The digest line appears only when the server gave one.
    @Test func theDigestIsShownWhenPresent() {
        var input = sampleInput()
        #expect(!ReportRenderer(input, language: .en).render().contains("State digest"))
        input.digest = "sha256:abc"
        #expect(ReportRenderer(input, language: .en).render().contains("State digest: sha256:abc"))
    }

    @Test func numbersAndDatesFollowTheLanguage() {
        #expect(ReportLanguage.en.number(1_234_567) == "1,234,567")
        #expect(ReportLanguage.en.number(999) == "999")
        #expect(ReportLanguage.ru.number(1_234_567) == "1\u{A0}234\u{A0}567")
        #expect(ReportLanguage.be.number(1234) == "1234", "four digits are not grouped in Belarusian")
        #expect(ReportLanguage.be.number(12_345) == "12\u{A0}345")
        #expect(ReportLanguage.ru.number(1234) == "1\u{A0}234", "but they are in Russian")
        #expect(ReportLanguage.en.number(1234) == "1,234")
        #expect(ReportLanguage.ru.number(12_345) == "12\u{A0}345")
        #expect(ReportLanguage.en.number(Int64.min) == "−9,223,372,036,854,775,808")
        let day = Timestamp("2020-08-24T06:00:00Z")!.epochSeconds
        #expect(ReportLanguage.en.date(epochSeconds: day) == "24 August 2020")
        // What Foundation's DateFormatter (dateStyle .long) and NumberFormatter give for be_BY, ru_RU and en_GB.
        #expect(ReportLanguage.be.date(epochSeconds: day) == "24 жніўня 2020\u{202F}г.")
        #expect(ReportLanguage.ru.date(epochSeconds: day) == "24 августа 2020\u{202F}г.")
        #expect(ReportLanguage.ru.instant("2020-08-24T09:30:00+03:00") == "24 августа 2020\u{202F}г., 06:30 UTC")
        #expect(ReportLanguage.be.date(epochSeconds: day, short: true) == "24.08")
        #expect(ReportLanguage.en.calendarDate("2021-02-28") == "28 February 2021")
        #expect(ReportLanguage.en.date(epochSeconds: -1) == "31 December 1969")
    }

    @Test(arguments: [
        (["LANG": "be_BY.UTF-8"], ReportLanguage.be), (["LANG": "ru_RU.UTF-8", "LC_ALL": "en_GB.UTF-8"], .en),
        (["LC_ALL": "ru_RU"], .ru), (["LANG": "C.UTF-8"], .en), ([:], .en), (["LANG": "de_DE", "LC_MESSAGES": "be"], .be),
    ] as [([String: String], ReportLanguage)])
    func theLanguageComesFromTheEnvironment(environment: [String: String], expected: ReportLanguage) {
        #expect(ReportLanguage.fromEnvironment(environment) == expected)
    }
}
