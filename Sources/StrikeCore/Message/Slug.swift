/// An identifier chosen by people: `^[a-z0-9][a-z0-9-]{0,62}$`.
///
/// Origins, workplaces, councils, delegates (pseudonyms), demands and actions
/// are slugs, so ids are ASCII and compare byte for byte everywhere.
public struct Slug: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init?(_ text: String) {
        guard Slug.isValid(text) else { return nil }
        rawValue = text
    }

    public static func isValid(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard (1...63).contains(utf8.count) else { return false }
        for (position, byte) in utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): continue
            case UInt8(ascii: "-") where position > 0: continue
            default: return false
            }
        }
        return true
    }

    public var description: String { rawValue }

    public static func < (lhs: Slug, rhs: Slug) -> Bool {
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }
}
