/// An aligned text table for people.
///
/// Cells come from strikecd's state, which came from messages: control
/// characters are replaced so that no message can drive the terminal, and
/// long texts are cut so a row stays a row.
struct Table {
    let headers: [String]
    private(set) var rows: [[String]] = []

    init(_ headers: String...) { self.headers = headers }

    mutating func add(_ cells: String...) { rows.append(cells.map { Table.clean($0) }) }

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

    func render() -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (index, cell) in cells.enumerated() {
                let last = index == cells.count - 1
                text += last ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
            }
            return text
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }

    /// Prints the table, or a note on stderr when it is empty.
    func print(empty: String) {
        if rows.isEmpty {
            Console.note(empty)
        } else {
            Console.out(render())
        }
    }
}
