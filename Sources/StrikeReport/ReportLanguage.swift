import StrikeCore

/// The languages a report is written in, with their number and date
/// formats. The formats are small tables of our own, written to give what
/// CLDR (Foundation's formatters, through ICU) gives for en_GB, be_BY and
/// ru_RU: Foundation would do, even linked statically, but its ICU data
/// takes a static binary from 19 to about 70 MB, for twelve month names.
public enum ReportLanguage: String, Sendable, CaseIterable {
    case en, be, ru

    /// The language of `LC_ALL`, else `LC_MESSAGES`, else `LANG`, as POSIX
    /// orders them (`be_BY.UTF-8` gives be); English for anything else.
    public static func fromEnvironment(_ environment: [String: String]) -> ReportLanguage {
        for name in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            guard let value = environment[name], !value.isEmpty else { continue }
            let code = value.prefix { $0.isLetter }.lowercased()
            return ReportLanguage(rawValue: code) ?? .en
        }
        return .en
    }

    /// The BCP 47 tag for `<html lang>`.
    public var tag: String { rawValue }

    /// The translation table.
    public var strings: Translation { Translation.table(self) }

    /// A whole number with the language's grouping: 1,234 in English,
    /// 1 234 in Russian, 1234 but 12 345 in Belarusian (CLDR's minimum
    /// grouping digits), the space a no-break space.
    public func number(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        let separator: Character = self == .en ? "," : "\u{00A0}"
        let grouped = digits.count >= (self == .be ? 5 : 4)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if grouped && index > 0 && (digits.count - index) % 3 == 0 { out.append(separator) }
            out.append(digit)
        }
        return (value < 0 ? "−" : "") + out
    }

    private static let months: [ReportLanguage: [String]] = [
        .en: ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
        // The genitive, as a date says it: 24 жніўня.
        .be: ["студзеня", "лютага", "сакавіка", "красавіка", "мая", "чэрвеня", "ліпеня", "жніўня", "верасня", "кастрычніка", "лістапада", "снежня"],
        .ru: ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"],
    ]
    private static let shortMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// A day in full: 24 August 2020, 24 жніўня 2020 г., 24 августа 2020 г.
    /// (a narrow no-break space before г., as CLDR writes it).
    public func date(year: Int, month: Int, day: Int) -> String {
        let name = Self.months[self]![month - 1]
        return self == .en ? "\(day) \(name) \(year)" : "\(day) \(name) \(year)\u{202F}г."
    }

    /// A day for a chart's axis: 24 Aug, 24.08.
    public func shortDate(year: Int, month: Int, day: Int) -> String {
        self == .en ? "\(day) \(Self.shortMonths[month - 1])" : (day < 10 ? "0\(day)" : "\(day)") + "." + (month < 10 ? "0\(month)" : "\(month)")
    }

    /// A day from seconds since the epoch (UTC).
    public func date(epochSeconds: Int64, short: Bool = false) -> String {
        let (year, month, day) = Self.civil(epochSeconds)
        return short ? shortDate(year: year, month: month, day: day) : date(year: year, month: month, day: day)
    }

    /// An instant in UTC, to the minute: 24 August 2020, 06:00 UTC.
    public func instant(epochSeconds: Int64) -> String {
        let seconds = ((epochSeconds % 86_400) + 86_400) % 86_400
        let hours = seconds / 3600, minutes = seconds / 60 % 60
        let clock = (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)"
        return date(epochSeconds: epochSeconds) + ", " + clock + " UTC"
    }

    /// An RFC 3339 text as `instant`, or the text itself if it does not parse.
    public func instant(_ text: String) -> String {
        guard let timestamp = Timestamp(text) else { return text }
        return instant(epochSeconds: timestamp.epochSeconds)
    }

    /// A YYYY-MM-DD date as `date`, or the text itself if it does not parse.
    public func calendarDate(_ text: String) -> String {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1...12).contains(parts[1]), (1...31).contains(parts[2]) else { return text }
        return date(year: parts[0], month: parts[1], day: parts[2])
    }

    /// Year, month, day of a UTC instant (H. Hinnant's civil_from_days).
    static func civil(_ epochSeconds: Int64) -> (Int, Int, Int) {
        let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (Int(yoe + era * 400 + (month <= 2 ? 1 : 0)), Int(month), Int(day))
    }
}
