/// Why a copy was rejected: a stable code for scripts and a detail for people.
///
/// The codes are part of the interface (docs/messages.md lists them); never
/// rename one. The detail names the field and says what was wrong.
public struct Rejection: Error, Sendable, Equatable {
    public var code: ReasonCode
    public var detail: String

    public init(_ code: ReasonCode, _ detail: String) {
        self.code = code
        self.detail = detail
    }
}

/// Stable reason codes for rejected copies.
public enum ReasonCode: String, Sendable, CaseIterable, Codable {
    /// Not valid UTF-8.
    case utf8
    /// Not JSON: a syntax error, nesting too deep, a byte order mark.
    case json
    /// An object with the same key twice.
    case duplicateKey = "duplicate-key"
    /// A `\u` escape that is half of a surrogate pair.
    case surrogate
    /// Larger than 64 KiB.
    case tooLarge = "too-large"
    /// The JSON value is not an object.
    case notObject = "not-object"
    /// `v` is not 1.
    case version
    /// An envelope field other than v, origin, seq, sent_at, type, data, sig.
    case unknownField = "unknown-field"
    /// A required field is absent (or null).
    case missingField = "missing-field"
    /// A field has the wrong type, range, length or form.
    case badValue = "bad-value"
    /// A count above `ValidationPolicy.maximumCount`.
    case outOfRange = "out-of-range"
    /// `type` names no known message type.
    case unknownType = "unknown-type"
    /// An election or recall where `for` ≤ `against`.
    case notCarried = "not-carried"
    /// An election where `for + against + abstain` < `quorum`.
    case inquorate
    /// `sent_at` is further in the future than the allowed clock skew.
    case future
    /// Two different valid versions of the same (origin, seq).
    case conflict
    /// Spool: a file that never became complete within the grace period.
    case truncated
    /// Spool: a sync tool's conflict copy (`*.sync-conflict-*`).
    case syncConflict = "sync-conflict"
    /// Spool: not a regular file (FIFO, socket, device, directory, symlink).
    case notRegular = "not-regular"
    /// Spool: the file's name is not UTF-8 (a Windows code page's, say).
    case nameNotUTF8 = "name-not-utf8"
    /// No `sig`, where the signature policy wants one.
    case unsigned
    /// `sig` is not a valid signature of the message by a key of its origin.
    case badSignature = "bad-signature"
    /// Signatures are required and the keyring has no key for the origin.
    case unknownOrigin = "unknown-origin"
}
