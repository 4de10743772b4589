// SECURITY: parses key files, which an operator copies from couriers' USB
// sticks and committees' messages: strict and bounded, with errors that name
// the file and line. Never echoes a secret key's text into an error.

import StrikeCore

/// A problem with a key file or the keyring, naming the file (and line).
public struct KeyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let message: String

    public init(file: String, line: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        file + (line.map { ":\($0)" } ?? "") + ": " + message
    }
}

/// The text formats of keys (docs/messages.md, "Keys").
///
/// A public key is one line, `ed25519 BASE64 [comment]`, where BASE64 is the
/// 32-byte Ed25519 public key (RFC 8032) in padded standard base64. A keyring
/// file `ORIGIN.pub` holds one such line per key of that origin, plus blank
/// lines and `#` comments, and may hold `speaks-for SCOPE…` lines that say
/// what the origin speaks for (docs/messages.md, "Scopes"). A secret key file holds `ed25519-secret BASE64`
/// with the 32-byte seed, and comments.
public enum KeyText {
    public static let publicTag = "ed25519"
    public static let secretTag = "ed25519-secret"
    /// Key files are small; anything larger is not one.
    public static let maximumFileBytes = 64 * 1024

    /// The meaningful lines of a key file: (line number, words), comments and
    /// blank lines skipped.
    static func lines(_ bytes: [UInt8], file: String) throws(KeyError) -> [(Int, [String])] {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw KeyError(file: file, "not UTF-8 text: not a key file")
        }
        var result: [(Int, [String])] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard let first = words.first, !first.hasPrefix("#") else { continue }
            result.append((index + 1, words))
        }
        return result
    }

    /// The word that starts a line of scopes in a keyring file.
    public static let scopeTag = "speaks-for"

    /// The public keys of a keyring file, in order (its `speaks-for` lines
    /// are checked too, and left out).
    public static func publicKeys(_ bytes: [UInt8], file: String) throws(KeyError) -> [[UInt8]] {
        try keyringFile(bytes, file: file).keys
    }

    /// A keyring file: its public keys in order, and the scopes of its
    /// `speaks-for SCOPE…` lines (nil without any such line: the origin then
    /// speaks for its own workplace and council).
    public static func keyringFile(_ bytes: [UInt8], file: String) throws(KeyError) -> (keys: [[UInt8]], scopes: [Scope]?) {
        var keys: [[UInt8]] = []
        var scopes: [Scope]?
        for (line, words) in try lines(bytes, file: file) {
            if words[0] == scopeTag {
                guard words.count >= 2 else {
                    throw KeyError(file: file, line: line, "`speaks-for` names no scope: write `speaks-for SCOPE…` with scopes workplace:SLUG, council:SLUG, workplace:*, council:* or *")
                }
                for word in words.dropFirst() {
                    guard let scope = Scope(word) else {
                        throw KeyError(file: file, line: line, "\"\(printable(word))\" is not a scope: write workplace:SLUG, council:SLUG, workplace:*, council:* or * (a slug is 1 to 63 of a-z, 0-9 and '-')")
                    }
                    scopes = (scopes ?? []) + [scope]
                }
                continue
            }
            if words[0] == secretTag {
                throw KeyError(file: file, line: line, "this is a SECRET key: it must never be in a keyring or leave its owner's machine; remove this file and destroy copies of it")
            }
            guard words[0] == publicTag, words.count >= 2 else {
                throw KeyError(file: file, line: line, "expected a public key line `ed25519 BASE64 [comment]` (from strikectl keygen)")
            }
            guard let key = Base64.decode(words[1]), key.count == 32 else {
                throw KeyError(file: file, line: line, "the key is not the base64 of 32 bytes (copied incompletely?)")
            }
            if !keys.contains(key) { keys.append(key) }
        }
        return (keys, scopes)
    }

    /// A word of a key file as it may be shown: at most 64 characters,
    /// control characters escaped (the file may be anybody's).
    static func printable(_ word: String) -> String {
        var shown = ""
        for scalar in word.unicodeScalars.prefix(64) {
            shown += scalar.properties.generalCategory == .control ? scalar.escaped(asASCII: true) : String(scalar)
        }
        return word.unicodeScalars.count > 64 ? shown + "…" : shown
    }

    /// The seed of a secret key file.
    public static func secretSeed(_ bytes: [UInt8], file: String) throws(KeyError) -> [UInt8] {
        let meaningful = try lines(bytes, file: file)
        guard meaningful.count == 1, let (line, words) = meaningful.first, words.count == 2, words[0] == secretTag else {
            if meaningful.contains(where: { $0.1.first == publicTag }) {
                throw KeyError(file: file, "this is a public key; signing needs the secret key file from strikectl keygen")
            }
            throw KeyError(file: file, "not a strikecd secret key file (one line `ed25519-secret BASE64`)")
        }
        guard let seed = Base64.decode(words[1]), seed.count == 32 else {
            throw KeyError(file: file, line: line, "the secret key is not the base64 of 32 bytes")
        }
        return seed
    }

    public static func publicLine(_ key: [UInt8], comment: String) -> String {
        "\(publicTag) \(Base64.encode(key)) \(comment)"
    }

    public static func secretText(_ seed: [UInt8], origin: String) -> String {
        """
        # strikecd secret signing key of origin \(origin).
        # SECRET: anyone who has this file can write messages as \(origin).
        # Never send it, print it or copy it off this machine; keep it on an
        # encrypted disk. Its public key (for receivers' keyrings) is \(origin).pub.
        \(secretTag) \(Base64.encode(seed))

        """
    }
}
