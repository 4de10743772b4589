/// A name in a directory as the kernel has it: bytes, which are nearly
/// always UTF-8 but need not be. A file named in a Windows code page (CP1251
/// from a USB stick mounted without `iocharset=utf8`) has a name that is not,
/// and decoding it with replacement characters names no file at all: such a
/// name can only be opened, moved or removed by its bytes.
public enum FileName: Hashable, Sendable {
    /// Valid UTF-8.
    case text(String)
    /// Not valid UTF-8: it cannot be written into a log, a JSON reply or
    /// the database as it is; `escaped` is what may be shown.
    case undecodable([UInt8])

    /// The name from its bytes (without the terminating NUL).
    public init<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        if let text = String(validating: bytes, as: UTF8.self) {
            self = .text(text)
        } else {
            self = .undecodable(Array(bytes))
        }
    }

    /// The name as text; nil when it is not UTF-8.
    public var text: String? {
        if case .text(let text) = self { text } else { nil }
    }

    /// The name's bytes, as `openat` and `renameat` want them.
    public var bytes: [UInt8] {
        switch self {
        case .text(let text): Array(text.utf8)
        case .undecodable(let bytes): bytes
        }
    }

    /// A readable name for the same file, in UTF-8: its valid UTF-8 as it
    /// is, and each other byte, each control character and each `%` as
    /// `%XX` (upper-case hexadecimal), so that different names never escape
    /// alike. `%` rather than a backslash: the result can be typed in a
    /// shell without quoting. For `"\u{CF}\u{F0}.json"` in CP1251 bytes,
    /// `%CF%F0.json`.
    public var escaped: String {
        var result = ""
        func escape(_ byte: UInt8) {
            let digits = Array("0123456789ABCDEF".utf8)
            result.unicodeScalars.append("%")
            result.unicodeScalars.append(Unicode.Scalar(digits[Int(byte >> 4)]))
            result.unicodeScalars.append(Unicode.Scalar(digits[Int(byte & 15)]))
        }
        let bytes = self.bytes
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var position = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                let scalar = Unicode.UTF8.decode(encoded)
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar == "%" {
                    escape(UInt8(scalar.value))
                } else {
                    result.unicodeScalars.append(scalar)
                }
                position += encoded.count
            case .error(let length):
                for byte in bytes[position..<position + length] { escape(byte) }
                position += length
            case .emptyInput:
                return result
            }
        }
    }
}
