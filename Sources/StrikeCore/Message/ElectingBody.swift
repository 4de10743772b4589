/// The body that elects or recalls a delegate (format v2): a workplace
/// assembly (`workplace`, as in v1), or the delegates of a council electing
/// to a council above it (`from_council`; a neighbourhood committee is a
/// council of level `neighbourhood`).
public enum ElectingBody: Sendable, Hashable, Comparable, CustomStringConvertible {
    case workplace(Slug)
    case council(Slug)

    /// `workplace` or `council`, as stored and shown.
    public var kind: String {
        switch self {
        case .workplace: "workplace"
        case .council: "council"
        }
    }

    public var id: Slug {
        switch self {
        case .workplace(let id), .council(let id): id
        }
    }

    public init?(kind: String, id: Slug) {
        switch kind {
        case "workplace": self = .workplace(id)
        case "council": self = .council(id)
        default: return nil
        }
    }

    /// `workplace:mtz`, `council:minsk-city`.
    public var description: String { "\(kind):\(id)" }

    public static func < (lhs: ElectingBody, rhs: ElectingBody) -> Bool {
        (lhs.kind, lhs.id) < (rhs.kind, rhs.id)
    }

    /// The entity it names, for Unresolved().
    public var reference: EntityRef {
        switch self {
        case .workplace(let id): EntityRef(.workplace, id)
        case .council(let id): EntityRef(.council, id)
        }
    }
}

extension CouncilLevel {
    /// Height in the tree of councils: neighbourhood 0, local 1, regional 2,
    /// national 3. A council elects only to a council of a greater rank.
    public var rank: Int {
        switch self {
        case .neighbourhood: 0
        case .local: 1
        case .regional: 2
        case .national: 3
        }
    }
}

/// A calendar date `YYYY-MM-DD` (the end of an arrest of fixed length).
/// Compared as text, which sorts as the dates do.
public struct CalendarDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let text: String

    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              year >= 1, (1...12).contains(month), day >= 1 else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard day <= days else { return nil }
        self.text = text
    }

    public var description: String { text }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool { lhs.text < rhs.text }
}
