/// Escapes text for HTML element content and double- or single-quoted
/// attribute values: every text a message gave (names, ids, demands' texts)
/// goes through here, so that `<script>` or `"onload=` in a workplace's name
/// is shown as written and never parsed.
public func escapeHTML(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        // Control characters have no business in a report; a message's
        // strings cannot carry them, but the server's details might.
        case "\u{0}"..."\u{8}", "\u{B}", "\u{C}", "\u{E}"..."\u{1F}", "\u{7F}": out += "\u{FFFD}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// Builds the document as one string, piece by piece.
struct HTMLWriter {
    private(set) var text = ""

    mutating func raw(_ markup: String) { text += markup }

    /// `<tag attributes>escaped text</tag>`; attributes are written by us, never from messages.
    mutating func element(_ tag: String, _ content: String, attributes: String = "") {
        text += "<\(tag)\(attributes.isEmpty ? "" : " " + attributes)>\(escapeHTML(content))</\(tag)>"
    }

    /// A table: a caption, a header row and rows of escaped cells. Cells
    /// in `numeric` columns are right-aligned.
    mutating func table(caption: String?, header: [String], rows: [[String]], numeric: Set<Int> = [], className: String = "") {
        raw("<table\(className.isEmpty ? "" : " class=\"\(className)\"")>")
        if let caption { element("caption", caption) }
        raw("<thead><tr>")
        for (index, cell) in header.enumerated() {
            element("th", cell, attributes: numeric.contains(index) ? "scope=\"col\" class=\"n\"" : "scope=\"col\"")
        }
        raw("</tr></thead><tbody>")
        for row in rows {
            raw("<tr>")
            for (index, cell) in row.enumerated() {
                element("td", cell, attributes: numeric.contains(index) ? "class=\"n\"" : "")
            }
            raw("</tr>")
        }
        raw("</tbody></table>")
    }
}
