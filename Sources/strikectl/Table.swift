#if canImport(Glibc)
import Glibc
#endif

/// An aligned text table for people.
///
/// Cells come from strikecd's state, which came from messages: control
/// characters are replaced so that no message can drive the terminal, and
/// long texts are cut (with "…") so a row stays a row: at 60 characters, and
/// then to the width of the terminal (COLUMNS, else the terminal's own), the
/// widest columns first. `--wide` shows every cell whole.
struct Table {
    let headers: [String]
    private(set) var rows: [[String]] = []

    init(_ headers: String...) { self.headers = headers }

    mutating func add(_ cells: String...) { rows.append(cells.map { Table.clean($0, maximum: Table.wide ? Int.max : 60) }) }

    /// Set once, from the command line (`--wide`), before any table is made.
    nonisolated(unsafe) static var wide = false

    /// The width to fit: COLUMNS, else the terminal's, else none (a pipe).
    static var terminalWidth: Int? {
        if wide { return nil }
        if let text = environment("COLUMNS"), let columns = Int(text), columns > 0 { return columns }
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    static func clean(_ text: String, maximum: Int = 60) -> String {
        var out = String.UnicodeScalarView()
        var count = 0
        for scalar in text.unicodeScalars {
            if count == maximum { out.append("…"); break }
            switch scalar.value {
            case 0..<0x20, 0x7F..<0xA0, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: out.append(" ")
            default: out.append(scalar)
            }
            count += 1
        }
        return String(out)
    }

    /// The columns' widths: each its widest cell, then, while the row is wider
    /// than `width`, the widest column narrowed (never below its header, nor
    /// below 6; the first never).
    func widths(fitting width: Int?) -> [Int] {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        guard let width, !widths.isEmpty else { return widths }
        // The first column is each row's id, to be copied into the next
        // command: never cut.
        let floor = headers.indices.map { $0 == 0 ? widths[0] : max(headers[$0].count, 6) }
        while widths.reduce(0, +) + 2 * (widths.count - 1) > width {
            guard let widest = widths.indices.filter({ widths[$0] > floor[$0] }).max(by: { widths[$0] < widths[$1] }) else { break }
            widths[widest] -= 1
        }
        return widths
    }

    func render(width: Int? = nil) -> String {
        let widths = widths(fitting: width)
        func line(_ cells: [String]) -> String {
            var text = ""
            for (index, cell) in cells.enumerated() {
                let last = index == cells.count - 1
                let fitted = index < widths.count && cell.count > widths[index] ? String(cell.prefix(widths[index] - 1)) + "…" : cell
                text += last ? fitted : fitted + String(repeating: " ", count: widths[index] - fitted.count + 2)
            }
            return text
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }

    /// Prints the table, fitted to the terminal, or a note on stderr when it is empty.
    func print(empty: String) {
        if rows.isEmpty {
            Console.note(empty)
        } else {
            Console.out(render(width: Table.terminalWidth))
        }
    }
}
