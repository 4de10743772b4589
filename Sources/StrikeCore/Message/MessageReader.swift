// SECURITY: every copy is hostile until this file says otherwise. Validation
// looks at the copy alone and the clock, never at other messages or the store,
// so that its verdict cannot depend on arrival order (docs/messages.md). Nothing
// downstream re-checks what is decided here.

/// What a copy is, as far as the reader can tell.
public struct CopyReading: Sendable {
    public init(identity: Identity, envelope: Envelope?, verdict: Result<Message, Rejection>) {
        self.identity = identity
        self.envelope = envelope
        self.verdict = verdict
    }

    /// What identifies a copy for duplicate detection (docs/design.md, "Reconciliation"): its
    /// canonical JSON when it reads as a JSON value, else its raw bytes.
    ///
    /// `sig` is not part of a message's identity: a copy signed with one key,
    /// a copy signed with the next key (rotation) and an unsigned copy are the
    /// same message, not rival versions of it. The exception is a copy refused
    /// for its signature (`unverified`): it is a claim by an unknown party, so
    /// it keeps its whole value, `sig` included, as an identity of its own.
    /// Otherwise a forger could strip or spoil the signature of a genuine
    /// message, deliver that copy first, and have the genuine copy counted as
    /// its duplicate.
    public enum Identity: Sendable, Equatable {
        /// The canonical JSON without a top-level `sig` member.
        case value([UInt8])
        /// The canonical JSON of a copy refused for its signature, `sig` included.
        case unverified([UInt8])
        case bytes([UInt8])
        /// The SHA-256 of `0x62 ('b')` followed by bytes too large to keep in
        /// memory: the same digest that `.bytes` of those bytes would give.
        case bytesDigest([UInt8])
    }

    public let identity: Identity
    /// `(origin, seq)` when the copy is a JSON object whose `origin` and `seq`
    /// are valid, even if the rest is not: such a copy counts as arrived for gaps.
    public let envelope: Envelope?
    public let verdict: Result<Message, Rejection>

    public var message: Message? { try? verdict.get() }
    public var rejection: Rejection? {
        if case .failure(let rejection) = verdict { return rejection }
        return nil
    }
}

public struct Envelope: Sendable, Hashable {
    public let origin: Slug
    public let seq: Int64

    public init(origin: Slug, seq: Int64) {
        self.origin = origin
        self.seq = seq
    }
}

/// The rules that depend on configuration or the clock.
public struct ValidationPolicy: Sendable {
    /// The largest size of one message, in bytes (docs/messages.md: 64 KiB).
    public static let maximumMessageBytes = 64 * 1024
    /// The longest string, in Unicode scalars.
    public static let maximumStringLength = 500
    /// The largest count (participants, headcount, votes, quorum, hours):
    /// two million, more than work at the largest workplace there is.
    ///
    /// Chosen so that no total over any store can overflow 64 bits, whatever
    /// arrives: SQLite's largest database is 2^32 - 2 pages of 64 KiB, under
    /// 2^48 bytes, and every workplace (or participation) counted in a total
    /// holds an applied message of its own whose stored body alone is longer
    /// than 64 bytes, so fewer than 2^42 of them can exist; 2^42 × 2,000,000
    /// < 2^63. Totals are therefore exact and independent of order and
    /// batches; the arithmetic is checked all the same.
    public static let maximumCount: Int64 = 2_000_000

    /// Now, in seconds since the epoch; nil skips the future check (used when
    /// re-reading messages that were accepted earlier).
    public var now: Int64?
    /// How far `sent_at` may be ahead of `now` (default 15 minutes).
    public var maximumFutureSkew: Int64
    /// Which signatures are required and the keys to check them with. `.off`
    /// by default here, for code that only checks the format; the daemon and
    /// its commands always pass the configured rules (default `required`).
    public var signatures: SignatureRules

    public init(now: Int64?, maximumFutureSkew: Int64 = 15 * 60, signatures: SignatureRules = .off) {
        self.now = now
        self.maximumFutureSkew = maximumFutureSkew
        self.signatures = signatures
    }

    /// Whether counts above `maximumCount` are refused (`out-of-range`).
    public var limitsCounts = true

    /// For messages read back from the store: every rule but the clock's, the
    /// signatures' and the counts' limit (all checked when the message
    /// arrived; a store written before the limit existed may hold larger
    /// counts, and they read back as they were accepted).
    public static let stored: ValidationPolicy = {
        var policy = ValidationPolicy(now: nil)
        policy.limitsCounts = false
        return policy
    }()
}

/// Turns the bytes of one copy into a `CopyReading`.
public enum MessageReader {
    static let envelopeFields: Set<String> = ["v", "origin", "seq", "sent_at", "type", "data", "sig"]

    public static func read(_ bytes: some Collection<UInt8>, policy: ValidationPolicy) -> CopyReading {
        if bytes.count > ValidationPolicy.maximumMessageBytes {
            return CopyReading(
                identity: .bytes(Array(bytes)), envelope: nil,
                verdict: .failure(Rejection(.tooLarge, "message is \(bytes.count) bytes; the limit is \(ValidationPolicy.maximumMessageBytes) (64 KiB)"))
            )
        }
        let value: JSONValue
        do {
            value = try JSONReader.read(bytes)
        } catch {
            let code: ReasonCode = switch error.kind {
            case .utf8: .utf8
            case .syntax: .json
            case .duplicateKey: .duplicateKey
            case .loneSurrogate: .surrogate
            }
            return CopyReading(identity: .bytes(Array(bytes)), envelope: nil, verdict: .failure(Rejection(code, error.detail)))
        }
        return read(value: value, policy: policy)
    }

    /// Validates an already-read JSON value (e.g. from a Varlink `Submit`).
    public static func read(value: JSONValue, policy: ValidationPolicy) -> CopyReading {
        let canonical = JSONWriter.bytes(value, style: .canonical)
        guard case .object(let object) = value else {
            return CopyReading(identity: .value(canonical), envelope: nil,
                               verdict: .failure(Rejection(.notObject, "a message is a JSON object, not \(value.kindName)")))
        }
        var envelope: Envelope?
        if case .string(let originText)? = object["origin"], let origin = Slug(originText),
           case .number(let seqNumber)? = object["seq"], let seq = seqNumber.int64, seq >= 1 {
            envelope = Envelope(origin: origin, seq: seq)
        }
        // Without a `sig` member the two forms are the same bytes: write once.
        let content = object["sig"] == nil ? canonical : signedBytes(of: object)
        do {
            let message = try validate(object, canonical: canonical, content: content, policy: policy)
            return CopyReading(identity: .value(content), envelope: envelope, verdict: .success(message))
        } catch {
            let identity: CopyReading.Identity = error.code.isSignatureFailure ? .unverified(canonical) : .value(content)
            return CopyReading(identity: identity, envelope: envelope, verdict: .failure(error))
        }
    }

    /// Every identity under which this copy may have been recorded, whatever
    /// the signature policy and keyring were when it arrived (they may have
    /// changed since): the refused-signature identity first, which is unique
    /// to this copy, then the content's. For an operator's requeue.
    public static func recordedIdentities(_ bytes: some Collection<UInt8>) -> [CopyReading.Identity] {
        let reading = read(bytes, policy: .stored)
        guard case .value = reading.identity, let value = try? JSONReader.read(bytes) else { return [reading.identity] }
        return [.unverified(JSONWriter.bytes(value, style: .canonical)), reading.identity]
    }

    static func validate(_ object: JSONObject, canonical: [UInt8], content: [UInt8], policy: ValidationPolicy) throws(Rejection) -> Message {
        // The signature first, as soon as there is an origin to judge it by:
        // a copy its origin did not vouch for is a stranger's claim, refused
        // as such (an identity of its own, not arrived for gaps) whatever else
        // is wrong with it. The signed bytes do not depend on the rest being
        // valid. Without a readable origin the copy has no envelope anyway.
        if case .string(let originText)? = object["origin"], let origin = Slug(originText) {
            try policy.signatures.check(object["sig"], signed: content, origin: origin)
        }
        for key in object.keys where !envelopeFields.contains(key) {
            throw Rejection(.unknownField, "unknown envelope field \"\(JSONReader.printable(key))\" (allowed: v, origin, seq, sent_at, type, data, sig)")
        }
        let envelope = Fields(object, path: "")
        guard let version = object["v"], !version.isNull else { throw Rejection(.missingField, "missing field \"v\"") }
        guard case .number(let versionNumber) = version, versionNumber.int64 == 1 else {
            throw Rejection(.version, "\"v\" must be the integer 1 (this is message format version 1)")
        }
        let origin = try envelope.slug("origin")
        let seq = try envelope.integer("seq", minimum: 1)
        let sentAt = try envelope.timestamp("sent_at")
        let typeText = try envelope.string("type")
        guard let type = MessageType(rawValue: typeText) else {
            throw Rejection(.unknownType, "unknown message type \"\(JSONReader.printable(typeText))\"")
        }
        var sig: String?
        if let value = object["sig"], !value.isNull {
            guard case .string(let text) = value, !text.isEmpty, text.unicodeScalars.count <= 500 else {
                throw Rejection(.badValue, "\"sig\" must be a non-empty string of at most 500 characters")
            }
            sig = text
        }
        guard let dataValue = object["data"], !dataValue.isNull else { throw Rejection(.missingField, "missing field \"data\"") }
        guard case .object(let dataObject) = dataValue else {
            throw Rejection(.badValue, "\"data\" must be an object, not \(dataValue.kindName)")
        }
        let body = try readBody(type, Fields(dataObject, path: "data.", maximumCount: policy.limitsCounts ? ValidationPolicy.maximumCount : .max))
        // Every number anywhere, known field or not, is an integer in 64 bits.
        try checkNumbers(.object(object), path: "")
        // Compare the whole instant: a fraction past the last allowed second
        // (`…:15:00.5` with a 15-minute limit) is past the limit too.
        // Saturating: any clock and skew a caller passes (a skew of 2^63 - 1
        // seconds means no limit) give a verdict, never an overflow.
        if let now = policy.now {
            let (sum, overflow) = now.addingReportingOverflow(policy.maximumFutureSkew)
            let limit = overflow ? (policy.maximumFutureSkew > 0 ? Int64.max : Int64.min) : sum
            if sentAt.epochSeconds > limit || (sentAt.epochSeconds == limit && !sentAt.fraction.isEmpty) {
                let (difference, beyond) = sentAt.epochSeconds.subtractingReportingOverflow(now)
                let ahead = beyond ? (now < 0 ? Int64.max : Int64.min) : difference
                throw Rejection(.future, "\"sent_at\" \(sentAt.text) is \(describe(seconds: ahead)) in the future; the limit is \(describe(seconds: policy.maximumFutureSkew)) (check the sender's clock)")
            }
        }
        return Message(origin: origin, seq: seq, sentAt: sentAt, type: type, body: body, sig: sig, canonical: canonical, content: content)
    }

    static func readBody(_ type: MessageType, _ data: Fields) throws(Rejection) -> Body {
        switch type {
        case .workplaceReported:
            return .workplaceReported(WorkplaceReport(
                workplace: try data.slug("workplace"),
                name: try data.optionalString("name"),
                kind: try data.optionalEnum("kind", WorkplaceKind.self),
                sector: try data.optionalString("sector"),
                town: try data.optionalString("town"),
                region: try data.optionalString("region"),
                ownership: try data.optionalEnum("ownership", Ownership.self),
                headcount: try data.optionalCount("headcount")
            ))
        case .strikeReported:
            return .strikeReported(
                workplace: try data.slug("workplace"),
                status: try data.enumValue("status", StrikeStatus.self),
                participants: try data.optionalCount("participants")
            )
        case .councilFormed:
            return .councilFormed(
                council: try data.slug("council"),
                name: try data.optionalString("name"),
                level: try data.enumValue("level", CouncilLevel.self),
                area: try data.optionalString("area")
            )
        case .delegateElected:
            let delegate = try data.slug("delegate")
            let body = try data.electingBody()
            let council = try data.slug("council")
            let votes = try data.votes("votes")
            let quorum = try data.optionalCount("quorum")
            if votes.yes <= votes.no {
                throw Rejection(.notCarried, "the election did not carry: \(votes.yes) for, \(votes.no) against (\"for\" must exceed \"against\")")
            }
            if let quorum, votes.yes + votes.no + votes.abstain < quorum {
                throw Rejection(.inquorate, "the election was inquorate: \(votes.yes + votes.no + votes.abstain) voted, the quorum is \(quorum)")
            }
            return .delegateElected(delegate: delegate, by: body, council: council, votes: votes, quorum: quorum)
        case .delegateRecalled:
            let delegate = try data.slug("delegate")
            let body = try data.electingBody()
            let votes = try data.votes("votes")
            if votes.yes <= votes.no {
                throw Rejection(.notCarried, "the recall did not carry: \(votes.yes) for, \(votes.no) against (\"for\" must exceed \"against\")")
            }
            return .delegateRecalled(delegate: delegate, by: body, votes: votes)
        case .delegateStatus:
            return .delegateStatus(
                delegate: try data.slug("delegate"),
                status: try data.enumValue("status", DelegateEvent.self),
                note: try data.optionalString("note")
            )
        case .delegateSafety:
            return .delegateSafety(
                delegate: try data.slug("delegate"),
                status: try data.enumValue("status", SafetyStatus.self),
                until: try data.optionalDate("until"),
                note: try data.optionalString("note")
            )
        case .demandProposed:
            return .demandProposed(
                demand: try data.slug("demand"),
                text: try data.string("text"),
                category: try data.enumValue("category", DemandCategory.self),
                by: try data.optionalSlug("by")
            )
        case .demandAdopted:
            return .demandAdopted(
                demand: try data.slug("demand"),
                workplace: try data.slug("workplace"),
                votes: try data.optionalVotes("votes")
            )
        case .demandOutcome:
            return .demandOutcome(
                demand: try data.slug("demand"),
                workplace: try data.slug("workplace"),
                outcome: try data.enumValue("outcome", DemandOutcome.self)
            )
        case .actionCalled:
            return .actionCalled(ActionCall(
                action: try data.slug("action"),
                kind: try data.enumValue("kind", ActionKind.self),
                startsAt: try data.timestamp("starts_at"),
                hours: try data.optionalCount("hours"),
                demands: try data.optionalSlugs("demands"),
                text: try data.optionalString("text"),
                by: try data.optionalSlug("by")
            ))
        case .actionJoined:
            return .actionJoined(
                action: try data.slug("action"),
                workplace: try data.slug("workplace"),
                participants: try data.optionalCount("participants")
            )
        }
    }

    static func checkNumbers(_ value: JSONValue, path: String) throws(Rejection) {
        // Finds the offending number first and builds its path only then:
        // building every member's path cost more than the check itself.
        guard firstBadNumber(value) != nil else { return }
        try checkNumbersWithPaths(value, path: path)
    }

    private static func firstBadNumber(_ value: JSONValue) -> JSONNumber? {
        switch value {
        case .number(let number): return number.int64 == nil ? number : nil
        case .array(let elements):
            for element in elements { if let bad = firstBadNumber(element) { return bad } }
        case .object(let object):
            for member in object.members { if let bad = firstBadNumber(member.value) { return bad } }
        default: break
        }
        return nil
    }

    private static func checkNumbersWithPaths(_ value: JSONValue, path: String) throws(Rejection) {
        switch value {
        case .number(let number):
            if number.int64 == nil {
                throw Rejection(.badValue, "\"\(path)\" is \(number.literal): numbers must be integers within 64 bits, written without fraction or exponent")
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() { try checkNumbersWithPaths(element, path: "\(path)[\(index)]") }
        case .object(let object):
            for member in object.members {
                try checkNumbersWithPaths(member.value, path: path.isEmpty ? JSONReader.printable(member.key) : path + "." + JSONReader.printable(member.key))
            }
        default: break
        }
    }

    static func describe(seconds: Int64) -> String {
        if seconds % 3600 == 0 { return "\(seconds / 3600) h" }
        if seconds % 60 == 0 { return "\(seconds / 60) min" }
        return "\(seconds) s"
    }
}

extension JSONValue {
    var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
