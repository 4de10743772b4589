/// An RFC 3339 date-time with an offset, as written in `sent_at` and `starts_at`.
///
/// Keeps the author's text (it is part of the message) and derives the UTC
/// instant: whole seconds since the epoch plus the fraction's digits, so that
/// instants compare exactly however many fraction digits were written.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The text as written, e.g. `2020-08-24T09:30:00+03:00`.
    public let text: String
    /// Seconds since 1970-01-01T00:00:00Z.
    public let epochSeconds: Int64
    /// Fraction digits without trailing zeros (`""` for a whole second).
    public let fraction: String

    /// A UTC rendering that sorts like the instant: `2020-08-24T06:30:00` or
    /// `2020-08-24T06:30:00.25`. (A shorter fraction is a prefix of a longer one
    /// only when it is smaller or equal, so byte order is time order.)
    public var utcSortable: String {
        var bytes: [UInt8] = []
        appendUTCSortable(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `utcSortable`'s bytes: one buffer rather than a dozen small
    /// strings, since every message's order key starts with it.
    func appendUTCSortable(to bytes: inout [UInt8]) {
        let (year, month, day) = Timestamp.civil(fromDays: floorDiv(epochSeconds, 86_400))
        let seconds = floorMod(epochSeconds, 86_400)
        appendPadded(year, 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendPadded(month, 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendPadded(day, 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendPadded(seconds / 3600, 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendPadded(seconds / 60 % 60, 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendPadded(seconds % 60, 2, to: &bytes)
        if !fraction.isEmpty {
            bytes.append(UInt8(ascii: "."))
            bytes.append(contentsOf: fraction.utf8)
        }
    }

    public var description: String { text }

    /// Parses RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
    /// `T` and `Z` may be lower case, as RFC 3339 allows. Leap seconds (`:60`)
    /// are refused: no clock a committee uses writes them, and accepting them
    /// would give two texts for one instant.
    public init?(_ text: String) {
        let b = Array(text.utf8)
        guard b.count >= 20, b.count <= 64 else { return nil }
        func digits(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for i in range {
                guard i < b.count, b[i] >= 48, b[i] <= 57 else { return nil }
                value = value * 10 + Int64(b[i] - 48)
            }
            return value
        }
        guard let year = digits(0..<4), b[4] == UInt8(ascii: "-"),
              let month = digits(5..<7), b[7] == UInt8(ascii: "-"),
              let day = digits(8..<10), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
              let hour = digits(11..<13), b[13] == UInt8(ascii: ":"),
              let minute = digits(14..<16), b[16] == UInt8(ascii: ":"),
              let second = digits(17..<19)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= Timestamp.daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 59
        else { return nil }
        var index = 19
        var fractionDigits: [UInt8] = []
        if b[index] == UInt8(ascii: ".") {
            index += 1
            while index < b.count, b[index] >= 48, b[index] <= 57 {
                fractionDigits.append(b[index])
                index += 1
            }
            guard !fractionDigits.isEmpty else { return nil }
        }
        guard index < b.count else { return nil }
        var offsetSeconds: Int64 = 0
        switch b[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign: Int64 = b[index] == UInt8(ascii: "+") ? 1 : -1
            guard index + 6 == b.count, let oh = digits(index + 1..<index + 3), b[index + 3] == UInt8(ascii: ":"),
                  let om = digits(index + 4..<index + 6), oh <= 23, om <= 59
            else { return nil }
            offsetSeconds = sign * (oh * 3600 + om * 60)
            index += 6
        default:
            return nil
        }
        guard index == b.count else { return nil }
        let local = Timestamp.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        let utc = local - offsetSeconds
        // Keep UTC inside years 1...9999 so the sortable form stays four digits.
        guard utc >= Timestamp.days(year: 1, month: 1, day: 1) * 86_400,
              utc < Timestamp.days(year: 10_000, month: 1, day: 1) * 86_400
        else { return nil }
        while fractionDigits.last == UInt8(ascii: "0") { fractionDigits.removeLast() }
        self.text = text
        self.epochSeconds = utc
        self.fraction = String(decoding: fractionDigits, as: UTF8.self)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        if lhs.epochSeconds != rhs.epochSeconds { return lhs.epochSeconds < rhs.epochSeconds }
        return lhs.fraction.utf8.lexicographicallyPrecedes(rhs.fraction.utf8)
    }

    public static func == (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.epochSeconds == rhs.epochSeconds && lhs.fraction == rhs.fraction
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(epochSeconds)
        hasher.combine(fraction)
    }

    /// RFC 3339 UTC text for an epoch second, e.g. for `sent_at` of a new message.
    public static func utcText(epochSeconds: Int64) -> String {
        let (year, month, day) = civil(fromDays: floorDiv(epochSeconds, 86_400))
        let seconds = floorMod(epochSeconds, 86_400)
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T"
            + pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2) + "Z"
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian; H. Hinnant's algorithms)

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

@inline(__always) func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
@inline(__always) func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }
/// Appends `pad(value, width)`'s bytes without making a string (for a value
/// that is not negative; the rest goes through `pad`).
func appendPadded(_ value: Int64, _ width: Int, to bytes: inout [UInt8]) {
    guard value >= 0 else {
        bytes.append(contentsOf: pad(value, width).utf8)
        return
    }
    var digits = 1
    var rest = value / 10
    while rest > 0 { digits += 1; rest /= 10 }
    if digits < width { bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits)) }
    let end = bytes.count + digits
    bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits))
    var remaining = value
    for index in stride(from: end - 1, through: end - digits, by: -1) {
        bytes[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
        remaining /= 10
    }
}

@inline(__always) func pad(_ value: Int64, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}
