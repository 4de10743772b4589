/// What every origin speaks for, under one signature policy and keyring
/// (docs/messages.md, "Scopes"): the state is a pure function of the
/// distinct valid messages and this.
///
/// - An origin of the keyring speaks for its scopes (`speaks-for` lines, or
///   by default its own workplace and council).
/// - Any other origin speaks for everything when its messages are not
///   checked by signatures (`signatures: off`, or unsigned under
///   `optional`), as in format v1; under `required` it speaks for its own
///   workplace and council, as a keyring origin without `speaks-for` lines
///   does (its messages were signed when they arrived, by a key since removed).
///
/// Built once per keyring load (`SignatureRules.speakers`); `admits` is a
/// hash look-up and a few comparisons, without allocation.
public struct Speakers: Sendable, Equatable {
    /// What an origin without an entry in `table` speaks for.
    public enum Unlisted: String, Sendable {
        /// Every body: its messages are not checked by signatures.
        case everything
        /// Its own workplace and council.
        case own
    }

    /// The keyring's origins and their scopes.
    public let table: [Slug: Scopes]
    public let unlisted: Unlisted
    /// FNV-1a (64 bits) of `text`: tells a store whose state was folded
    /// under other scopes without reading its table.
    public let fingerprint: Int64
    /// Every origin speaks for everything (`everyone`, or a table that says
    /// `*` for each origin it lists and nothing narrower for the others).
    public let speaksForAll: Bool

    public init(table: [Slug: Scopes], unlisted: Unlisted) {
        // With signatures off nothing is checked: the keyring says nothing.
        self.table = table
        self.unlisted = unlisted
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func add(_ text: String) {
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        add(unlisted.rawValue + "\n")
        for origin in table.keys.sorted() { add("\(origin) \(table[origin]!)\n") }
        fingerprint = Int64(bitPattern: hash)
        speaksForAll = unlisted == .everything && table.values.allSatisfy { $0 == .everything }
    }

    /// Every origin speaks for everything: `signatures: off`, and format v1.
    public static let everyone = Speakers(table: [:], unlisted: .everything)

    /// What `origin` speaks for.
    public func scopes(for origin: Slug) -> Scopes {
        if let scopes = table[origin] { return scopes }
        return unlisted == .everything ? .everything : .own(origin)
    }

    /// Whether `origin` speaks for `body`.
    @inlinable
    public func admits(_ body: BodyRef, from origin: Slug) -> Bool {
        if let scopes = table[origin] { return scopes.admits(body) }
        switch unlisted {
        case .everything: return true
        case .own: return body.id == origin
        }
    }

    /// Whether `message` moves the state: its origin speaks for the body it
    /// is about, or it is about no body (a safety report, from any origin).
    /// Otherwise it is a report from another origin.
    @inlinable
    public func admits(_ message: Message) -> Bool {
        // signatures: off (and every store before scopes): not even a look-up.
        if speaksForAll { return true }
        guard let body = message.aboutBody else { return true }
        return admits(body, from: message.origin)
    }

    public static func == (lhs: Speakers, rhs: Speakers) -> Bool {
        lhs.unlisted == rhs.unlisted && lhs.table == rhs.table
    }
}

extension SignatureRules {
    /// What every origin speaks for under these rules (see `Speakers`).
    public static func speakers(policy: SignaturePolicy, verifier: (any SignatureVerifier)?) -> Speakers {
        switch policy {
        case .off: .everyone
        case .optional: Speakers(table: verifier?.scopeTable ?? [:], unlisted: .everything)
        case .required: Speakers(table: verifier?.scopeTable ?? [:], unlisted: .own)
        }
    }
}
