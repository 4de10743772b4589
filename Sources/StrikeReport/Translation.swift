/// A report's strings in one language, read from the translators' files
/// (Sources/StrikeReport/Translations/LANG.strings, embedded verbatim in
/// TranslationTexts.swift by Translations/embed.sh, so the installed binary
/// needs no resource files).
///
/// The format is one `key = text` a line; `#` starts a comment line; blank
/// lines are ignored; `{name}` in a text is replaced by a value. A test
/// checks that every language has exactly the keys English has.
public struct Translation: Sendable {
    public let entries: [String: String]

    /// Parses a `.strings` file; a malformed line is a programming error
    /// (the tests parse every file).
    public init(parsing text: String) {
        var entries: [String: String] = [:]
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.drop { $0 == " " }
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters()
            let value = line[line.index(after: equals)...].trimmingCharacters()
            entries[key] = value
        }
        self.entries = entries
    }

    /// The text for `key`, with `{name}` placeholders filled. A key missing
    /// from the table shows as itself, which a test prevents.
    public func callAsFunction(_ key: String, _ values: [String: String] = [:]) -> String {
        let text = entries[key] ?? key
        guard !values.isEmpty else { return text }
        var out = ""
        var rest = text[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let name = String(rest[rest.index(after: open)..<close])
            out += values[name] ?? String(rest[open...close])
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    public static func table(_ language: ReportLanguage) -> Translation {
        switch language {
        case .en: english
        case .be: belarusian
        case .ru: russian
        }
    }

    static let english = Translation(parsing: TranslationTexts.en)
    static let belarusian = Translation(parsing: TranslationTexts.be)
    static let russian = Translation(parsing: TranslationTexts.ru)
}

extension Substring {
    func trimmingCharacters() -> String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}

