/// Journal field names for metadata keys.
///
/// journald accepts a field from a client only if its name is 1–64 characters of `A–Z`,
/// `0–9` and `_`, and does not start with a digit or `_` (those are trusted fields that only
/// journald itself sets). Anything else is dropped *silently*: `sd_journal_sendv` still
/// returns 0. So every metadata key goes through ``name(forMetadataKey:)``, and the names of
/// one entry through ``names(forMetadataKeys:)``, which never maps two keys to one field.
///
/// Mapping: `STRIKECD_` + the key with `a–z` upper-cased and every other character outside
/// `A–Z 0–9 _` replaced by `_` (one `_` per Unicode scalar). The prefix makes a leading digit
/// or `_` harmless. Keys written in `lower_snake_case` map one-to-one and readably
/// (`origin` → `STRIKECD_ORIGIN`); others still arrive, under a lossy name.
///
/// Rejected alternative: percent- or hex-encoding the bad characters. It is reversible but
/// unreadable in `journalctl` output and still needs the length limit.
public enum JournalFieldName {
    /// Prefix of every metadata field.
    public static let prefix = "STRIKECD_"
    /// journald's limit on a field name's length.
    public static let maximumLength = 64

    /// The field name for one metadata key; always valid (see ``isValid(_:)``).
    ///
    /// Names longer than 64 characters are cut to 55 and end in `_` plus 8 hexadecimal
    /// digits of a hash of the whole key, so long keys that differ only at the end stay apart.
    public static func name(forMetadataKey key: String) -> String {
        var name = prefix
        for scalar in key.unicodeScalars {
            switch scalar {
            case "A"..."Z", "0"..."9", "_": name.unicodeScalars.append(scalar)
            case "a"..."z": name.unicodeScalars.append(Unicode.Scalar(scalar.value - 32)!)
            default: name.unicodeScalars.append("_")
            }
        }
        guard name.utf8.count > maximumLength else { return name }
        let hash = fnv1a32(key)
        let hex = String(hash, radix: 16)
        let digits = String(repeating: "0", count: 8 - hex.utf8.count) + hex.uppercased()
        // Every character is ASCII here, so characters and bytes agree.
        return String(name.prefix(maximumLength - 9)) + "_" + digits
    }

    /// Field names for all keys of one entry, distinct even where two keys sanitise alike.
    ///
    /// Keys are taken in sorted order; a key whose name is already taken gets `_2`, `_3`, …
    /// (the base shortened to stay within 64 characters). The result depends only on the set
    /// of keys, never on dictionary order.
    public static func names(forMetadataKeys keys: some Sequence<String>) -> [String: String] {
        var result: [String: String] = [:]
        var taken: Set<String> = []
        for key in Set(keys).sorted() {
            let base = name(forMetadataKey: key)
            var candidate = base
            var counter = 2
            while taken.contains(candidate) {
                let suffix = "_\(counter)"
                candidate = String(base.prefix(maximumLength - suffix.utf8.count)) + suffix
                counter += 1
            }
            taken.insert(candidate)
            result[key] = candidate
        }
        return result
    }

    /// Whether journald keeps a field of this name when a client sends it.
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumLength else { return false }
        if bytes[0] == UInt8(ascii: "_") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[0]) {
            return false
        }
        return bytes.allSatisfy { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_")
        }
    }

    private static func fnv1a32(_ text: String) -> UInt32 {
        var hash: UInt32 = 0x811c_9dc5
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        return hash
    }
}
