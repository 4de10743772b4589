// SECURITY: decodes `sig` values and key files, which come from anyone.
// Strict on purpose: the standard alphabet of RFC 4648 §4 with `=` padding,
// no whitespace, no URL-safe letters, and the unused low bits of the last
// character must be zero. So each byte string has exactly one spelling, and a
// signature cannot be re-spelt into a "new" string that means the same bytes.

/// Base64 as RFC 4648 §4 defines it (the standard alphabet, with padding).
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The value of each byte as a base64 digit, or 0xFF.
    static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= input.count {
            let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
            out.append(alphabet[Int(chunk >> 18 & 63)])
            out.append(alphabet[Int(chunk >> 12 & 63)])
            out.append(alphabet[Int(chunk >> 6 & 63)])
            out.append(alphabet[Int(chunk & 63)])
            index += 3
        }
        switch input.count - index {
        case 1:
            let chunk = UInt32(input[index]) << 16
            out.append(alphabet[Int(chunk >> 18 & 63)])
            out.append(alphabet[Int(chunk >> 12 & 63)])
            out.append(contentsOf: "==".utf8)
        case 2:
            let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
            out.append(alphabet[Int(chunk >> 18 & 63)])
            out.append(alphabet[Int(chunk >> 12 & 63)])
            out.append(alphabet[Int(chunk >> 6 & 63)])
            out.append(UInt8(ascii: "="))
        default: break
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes, or nil when `text` is not canonical padded base64.
    public static func decode(_ text: String) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            let last = index + 4 == input.count
            let (a, b, c, d) = (input[index], input[index + 1], input[index + 2], input[index + 3])
            let padding = last ? (d == UInt8(ascii: "=") ? (c == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
            let va = values[Int(a)], vb = values[Int(b)]
            let vc = padding == 2 ? 0 : values[Int(c)]
            let vd = padding >= 1 ? 0 : values[Int(d)]
            guard va != 0xFF, vb != 0xFF, vc != 0xFF, vd != 0xFF else { return nil }
            let chunk = UInt32(va) << 18 | UInt32(vb) << 12 | UInt32(vc) << 6 | UInt32(vd)
            out.append(UInt8(chunk >> 16 & 0xFF))
            switch padding {
            case 0:
                out.append(UInt8(chunk >> 8 & 0xFF))
                out.append(UInt8(chunk & 0xFF))
            case 1:
                guard chunk & 0xFF == 0 else { return nil }  // non-zero unused bits
                out.append(UInt8(chunk >> 8 & 0xFF))
            default:
                guard chunk & 0xFFFF == 0 else { return nil }
            }
            index += 4
        }
        return out
    }
}
