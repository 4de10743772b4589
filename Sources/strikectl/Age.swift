import StrikeCore

/// "2026-03-01 06:00Z (2 d ago)": when something was last reported, and how
/// long ago, by this computer's clock.
enum Age {
    static func describe(_ reportedAt: String?, now: Int64) -> String {
        guard let reportedAt, let time = Timestamp(reportedAt) else { return "-" }
        let shown = String(time.text.prefix(16)).replacingFirst("T", with: " ") + "Z"
        let seconds = now - time.epochSeconds
        let ago: String
        switch seconds {
        case ..<(-60): ago = "in the future by this clock"
        case ..<60: ago = "just now"
        case ..<3600: ago = "\(seconds / 60) min ago"
        case ..<(2 * 86_400): ago = "\(seconds / 3600) h ago"
        default: ago = "\(seconds / 86_400) d ago"
        }
        return "\(shown) (\(ago))"
    }
}

extension String {
    func replacingFirst(_ target: Character, with replacement: String) -> String {
        guard let index = firstIndex(of: target) else { return self }
        return self[..<index] + replacement + self[self.index(after: index)...]
    }
}
