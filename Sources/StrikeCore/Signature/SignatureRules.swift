// SECURITY: this decides whether a copy speaks for its origin. The signed
// bytes are the canonical form of the message without its top-level `sig`
// member (docs/messages.md, "Signatures"): the same bytes that make two copies
// duplicates, so what is verified is exactly what is stored and folded. The
// strict JSON reader has already refused duplicate keys and lone surrogates,
// the classic ways to make a signer and a reader see different messages.
//
// The cryptography is not here: the core has no dependencies. A verifier (the
// keyring, in StrikeSigning) is injected through `ValidationPolicy`.

/// How strictly signatures are required (the setting `signatures`).
public enum SignaturePolicy: String, Sendable, CaseIterable {
    /// Signatures are not looked at (beyond `sig` being a short string).
    case off
    /// An origin that has a key in the keyring must sign, with one of its
    /// keys; an origin without keys is accepted signed or not (its signature
    /// cannot be checked). For committees moving to signatures one by one.
    case optional
    /// Every message must carry a valid signature by a key of its origin.
    case required
}

/// Checks Ed25519 signatures against origins' public keys.
///
/// A class (`AnyObject`) so that settings can tell a reloaded keyring from the
/// one in use by identity.
public protocol SignatureVerifier: AnyObject, Sendable {
    /// How many public keys `origin` has (0: unknown to the keyring).
    func keyCount(for origin: Slug) -> Int

    /// Whether `signature` (64 bytes) is a valid Ed25519 signature of `message`
    /// under any of `origin`'s keys.
    func verify(_ signature: [UInt8], of message: [UInt8], by origin: Slug) -> Bool

    /// What each origin with keys speaks for (docs/messages.md, "Scopes").
    var scopeTable: [Slug: Scopes] { get }
}

extension SignatureVerifier {
    /// No `speaks-for` lines: each origin speaks for its own workplace and council.
    public var scopeTable: [Slug: Scopes] { [:] }
}

/// The signature policy with the keys to apply it.
public struct SignatureRules: Sendable, Equatable {
    public let policy: SignaturePolicy
    /// The origins' public keys; nil is an empty keyring.
    public let verifier: (any SignatureVerifier)?
    /// What every origin speaks for under this policy and keyring; computed
    /// once here, not per message or transaction.
    public let speakers: Speakers

    public init(policy: SignaturePolicy, verifier: (any SignatureVerifier)?) {
        self.policy = policy
        self.verifier = verifier
        self.speakers = Self.speakers(policy: policy, verifier: verifier)
    }

    /// No signature checks: for messages read back from the store, which were
    /// checked when they arrived, and for tools that only look at the format.
    public static let off = SignatureRules(policy: .off, verifier: nil)

    public static func == (lhs: SignatureRules, rhs: SignatureRules) -> Bool {
        lhs.policy == rhs.policy && lhs.verifier === rhs.verifier
    }

    /// Throws `unsigned`, `unknown-origin` or `bad-signature` when the copy
    /// does not pass under this policy.
    ///
    /// The reader calls this before it looks at anything but `origin`, so
    /// that a copy its origin did not vouch for is refused as such whatever
    /// the rest of it holds: otherwise an unsigned copy with a broken body
    /// would be rejected for its body and count as its origin's (gaps), and
    /// a forger could hide a missing message or announce a billion.
    ///
    /// - Parameters:
    ///   - sig: the `sig` member as read (nil when absent); `null` counts as absent.
    ///   - signed: the canonical form of the message without `sig`.
    public func check(_ sig: JSONValue?, signed: [UInt8], origin: Slug) throws(Rejection) {
        let keys = verifier?.keyCount(for: origin) ?? 0
        switch policy {
        case .off:
            return
        case .optional where keys == 0:
            // Nothing to check it against: accepted as if unsigned.
            return
        case .optional, .required:
            break
        }
        let text: String?
        switch sig {
        case nil, .null?: text = nil
        case .string(let string)?: text = string
        default:
            // Not a signature at all, where one is wanted: the copy is not
            // its origin's (`bad-value` under `off`, where `sig` is a plain field).
            throw Rejection(.badSignature, "\"sig\" is not the base64 of a 64-byte Ed25519 signature")
        }
        guard let sig = text else {
            let why = policy == .required
                ? "signatures are required"
                : "origin \"\(origin)\" has \(keys == 1 ? "a key" : "keys") in the keyring, so its messages must be signed"
            throw Rejection(.unsigned, "the message has no \"sig\", and \(why) (sign it with strikectl sign)")
        }
        guard keys > 0, let verifier else {
            throw Rejection(.unknownOrigin, "the keyring has no public key for origin \"\(origin)\", so its signature cannot be checked (add the origin's key to the keyring, then requeue)")
        }
        guard let bytes = Base64.decode(sig), bytes.count == 64 else {
            throw Rejection(.badSignature, "\"sig\" is not the base64 of a 64-byte Ed25519 signature")
        }
        guard verifier.verify(bytes, of: signed, by: origin) else {
            throw Rejection(.badSignature, "the signature does not match the message under \(keys == 1 ? "the key" : "any of the \(keys) keys") of origin \"\(origin)\": the message was changed after signing, or signed by someone else")
        }
    }
}

extension ReasonCode {
    /// The codes of copies whose content may be fine but whose signature does
    /// not vouch for it: such a copy is a claim by an unknown party.
    public var isSignatureFailure: Bool {
        self == .unsigned || self == .badSignature || self == .unknownOrigin
    }
}

extension CopyReading {
    /// Whether this copy's `(origin, seq)` counts as arrived for gaps: not
    /// when it was refused for its signature. Its envelope is a stranger's
    /// claim; counting it would let a forger hide a missing message behind a
    /// rejection, or announce a gap of a billion messages.
    public var countsAsArrived: Bool {
        if case .unverified = identity { return false }
        return envelope != nil
    }
}

extension MessageReader {
    /// The bytes a signature covers: the canonical form of `object` without
    /// its `sig` member (whatever its value, `null` included).
    public static func signedBytes(of object: JSONObject) -> [UInt8] {
        let unsigned = JSONObject(object.members.filter { !$0.key.unicodeScalars.elementsEqual("sig".unicodeScalars) })
        return JSONWriter.bytes(.object(unsigned), style: .canonical)
    }
}
