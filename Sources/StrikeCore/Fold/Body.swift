// Who speaks for whom (docs/messages.md, "Scopes"). A signature says which
// origin wrote a message; a scope says what that origin may speak for. Both
// types here are pure values: the keyring parses scopes, the reconciler and
// a node's per-peer filters ask `admits`.

/// A body a message can be about: a workplace (its assembly) or a council
/// (a neighbourhood committee is a council of level `neighbourhood`).
///
/// Use `Message.aboutBody` to find the body of a message, and `Scopes.admits`
/// to ask whether an origin speaks for it.
public enum BodyRef: Sendable, Hashable, Comparable, CustomStringConvertible {
    case workplace(Slug)
    case council(Slug)

    /// The electing body of an election or recall, as a body.
    public init(_ electing: ElectingBody) {
        switch electing {
        case .workplace(let id): self = .workplace(id)
        case .council(let id): self = .council(id)
        }
    }

    /// Parses `workplace:SLUG` or `council:SLUG`.
    public init?(_ text: some StringProtocol) {
        guard let colon = text.firstIndex(of: ":"), let id = Slug(String(text[text.index(after: colon)...])) else { return nil }
        switch text[..<colon] {
        case "workplace": self = .workplace(id)
        case "council": self = .council(id)
        default: return nil
        }
    }

    /// `workplace` or `council`.
    public var kind: String {
        switch self {
        case .workplace: "workplace"
        case .council: "council"
        }
    }

    public var id: Slug {
        switch self {
        case .workplace(let id), .council(let id): id
        }
    }

    /// `workplace:mtz`, `council:minsk-city`.
    public var description: String { "\(kind):\(id)" }

    public static func < (lhs: BodyRef, rhs: BodyRef) -> Bool {
        (lhs.kind, lhs.id) < (rhs.kind, rhs.id)
    }
}

/// One thing an origin may speak for: a `speaks-for` word of a keyring file.
public enum Scope: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// `workplace:SLUG`
    case workplace(Slug)
    /// `council:SLUG`
    case council(Slug)
    /// `workplace:*`: every workplace.
    case everyWorkplace
    /// `council:*`: every council.
    case everyCouncil
    /// `*`: every body.
    case everything

    /// Parses one scope word; nil when it is not one of the five forms.
    public init?(_ text: some StringProtocol) {
        switch text {
        case "*": self = .everything
        case "workplace:*": self = .everyWorkplace
        case "council:*": self = .everyCouncil
        default:
            guard let body = BodyRef(text) else { return nil }
            switch body {
            case .workplace(let id): self = .workplace(id)
            case .council(let id): self = .council(id)
            }
        }
    }

    public var description: String {
        switch self {
        case .workplace(let id): "workplace:\(id)"
        case .council(let id): "council:\(id)"
        case .everyWorkplace: "workplace:*"
        case .everyCouncil: "council:*"
        case .everything: "*"
        }
    }

    /// Whether this scope covers `body`.
    @inlinable
    public func admits(_ body: BodyRef) -> Bool {
        switch (self, body) {
        case (.everything, _), (.everyWorkplace, .workplace), (.everyCouncil, .council): true
        case (.workplace(let mine), .workplace(let id)), (.council(let mine), .council(let id)): mine == id
        default: false
        }
    }

    public static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.description < rhs.description }
}

/// What one origin speaks for: the union of its scopes.
///
/// An origin's scopes come from the `speaks-for` lines of its keyring file;
/// without any, `own(_:)`: the workplace and the council whose slug is the
/// origin's. An origin that is not checked by signatures at all (signatures
/// off, or unsigned under `optional`) speaks for everything.
public struct Scopes: Sendable, Hashable, CustomStringConvertible {
    /// Sorted, without repeats; never empty.
    public let scopes: [Scope]

    /// nil when `scopes` is empty: an origin speaks for something.
    public init?(_ scopes: some Sequence<Scope>) {
        let sorted = Set(scopes).sorted()
        guard !sorted.isEmpty else { return nil }
        // `*` covers the rest; keeping only it makes equal scopes equal values.
        self.scopes = sorted.contains(.everything) ? [.everything] : sorted
    }

    /// Every body.
    public static let everything = Scopes([.everything])!

    /// The default of an origin without `speaks-for` lines: the workplace
    /// and the council whose slug is its own.
    public static func own(_ origin: Slug) -> Scopes {
        Scopes([.workplace(origin), .council(origin)])!
    }

    /// Whether some scope covers `body`. A handful of scopes, compared in
    /// place: no allocation, so the fold can ask it for every message.
    @inlinable
    public func admits(_ body: BodyRef) -> Bool {
        for scope in scopes where scope.admits(body) { return true }
        return false
    }

    /// The scopes separated by spaces: `council:minsk-city workplace:mtz`.
    public var description: String { scopes.map(\.description).joined(separator: " ") }
}

extension BodyRef {
    /// The body a message is about (docs/messages.md, "Scopes"): whose
    /// facts it states, so whose origin must speak for it.
    ///
    /// - the workplace, for `workplace.reported`, `strike.reported`,
    ///   `demand.adopted`, `demand.outcome` and `action.joined`;
    /// - the electing body (`workplace` or `from_council`), for elections
    ///   and recalls;
    /// - the council, for `council.formed`;
    /// - the council named by `by`, for `demand.proposed` and
    ///   `action.called`, or without `by` the council whose slug is `origin`;
    /// - none (nil) for safety reports, `delegate.safety` and v1
    ///   `delegate.status`: anyone may say a delegate was detained. A v1
    ///   `resigned` has no body either: the message does not say which
    ///   bodies gave the mandates it ends.
    ///
    /// A pure function of the message alone, so that every node decides
    /// alike. Use `Speakers.admits` to decide whether a message moves the
    /// state; use this where only the body matters (a node's per-peer filter).
    public static func about(_ body: Body, origin: Slug) -> BodyRef? {
        switch body {
        case .workplaceReported(let report): .workplace(report.workplace)
        case .strikeReported(let workplace, _, _), .demandAdopted(_, let workplace, _),
             .demandOutcome(_, let workplace, _), .actionJoined(_, let workplace, _):
            .workplace(workplace)
        case .delegateElected(_, let by, _, _, _), .delegateRecalled(_, let by, _): BodyRef(by)
        case .councilFormed(let council, _, _, _): .council(council)
        case .demandProposed(_, _, _, let by): .council(by ?? origin)
        case .actionCalled(let call): .council(call.by ?? origin)
        case .delegateStatus, .delegateSafety: nil
        }
    }
}

extension Message {
    /// The body this message is about, nil for a safety report (see `BodyRef.about`).
    @inlinable
    public var aboutBody: BodyRef? { BodyRef.about(body, origin: origin) }
}
