import Logging

/// Deterministic text for metadata values, shared by both handlers.
///
/// A top-level `.string` or `.stringConvertible` value is its text unchanged. Nested values
/// (`.array`, `.dictionary`) become compact JSON with dictionary keys sorted, so the same
/// metadata always gives the same bytes (swift-log's own `description` follows dictionary
/// order, which changes from run to run). Rejected alternative: flattening `a.b` into separate
/// journal fields; it multiplies field names and their collisions for little gain.
enum MetadataText {
    /// The text of a metadata value as it goes into a journal field or after `key=`.
    static func render(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array, .dictionary: json(value)
        }
    }

    /// The value as compact JSON: strings quoted, arrays and objects (keys sorted) nested.
    static func json(_ value: Logger.MetadataValue) -> String {
        var out = ""
        appendJSON(value, to: &out)
        return out
    }

    private static func appendJSON(_ value: Logger.MetadataValue, to out: inout String) {
        switch value {
        case .string(let text):
            appendQuoted(text, to: &out)
        case .stringConvertible(let convertible):
            appendQuoted(convertible.description, to: &out)
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                appendJSON(element, to: &out)
            }
            out += "]"
        case .dictionary(let dictionary):
            out += "{"
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                appendQuoted(key, to: &out)
                out += ":"
                appendJSON(dictionary[key]!, to: &out)
            }
            out += "}"
        }
    }

    /// A JSON string literal; control characters, `"` and `\` escaped.
    static func quoted(_ text: String) -> String {
        var out = ""
        appendQuoted(text, to: &out)
        return out
    }

    private static func appendQuoted(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += hexEscape(scalar)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    static func hexEscape(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - hex.utf8.count)) + hex
    }

    /// Handler metadata, then the metadata provider's, then the event's; later wins.
    /// This is the order swift-log's documentation prescribes for handlers.
    static func merged(
        handler: Logger.Metadata,
        provider: Logger.MetadataProvider?,
        event: Logger.Metadata?
    ) -> Logger.Metadata {
        var metadata = handler
        if let provided = provider?.get(), !provided.isEmpty {
            metadata.merge(provided) { _, new in new }
        }
        if let event, !event.isEmpty {
            metadata.merge(event) { _, new in new }
        }
        return metadata
    }
}
