import StrikeCore

/// What to type instead of a name that is not a slug: its lower-case,
/// hyphenated form, Cyrillic written out in Latin letters (ids are ASCII, so
/// that every node and every keyboard can type them).
enum SlugAdvice {
    /// The slug closest to `text`, or nil when nothing of it is left.
    static func suggestion(for text: String) -> String? {
        var out = ""
        var pendingHyphen = false
        for character in text.lowercased() {
            let latin = transliteration[character] ?? (character.isASCII && (character.isLetter || character.isNumber) ? String(character) : nil)
            guard let latin else {
                pendingHyphen = !out.isEmpty
                continue
            }
            if latin.isEmpty { continue }
            if pendingHyphen { out += "-" }
            pendingHyphen = false
            out += latin
        }
        let cut = String(out.prefix(63))
        let trimmed = String(cut.reversed().drop { $0 == "-" }.reversed())
        return Slug.isValid(trimmed) ? trimmed : nil
    }

    /// "OPTION "TEXT" is not a slug: …", with the suggestion when there is one.
    static func message(_ name: String, _ text: String) -> String {
        let rule = "ids are 1 to 63 of a-z, 0-9 and '-'"
        guard let suggestion = suggestion(for: text), suggestion != text else { return "\(name) \"\(text)\" is not an id: \(rule)" }
        return "\(name) \"\(text)\" is not an id: \(rule); did you mean \"\(suggestion)\"?"
    }

    /// Russian and Belarusian letters in the common passport spelling.
    static let transliteration: [Character: String] = [
        "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z",
        "и": "i", "і": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
        "с": "s", "т": "t", "у": "u", "ў": "w", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
        "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "'": "", "’": "",
    ]
}
