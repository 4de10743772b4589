/// How the picture changed over time (`Query.History`): per step (a UTC day
/// or hour), the striking workplaces and their participants as of the end of
/// the step, and the delegates held then, taken into custody and released
/// during it.
///
/// The history is the state's own fold replayed in key order: each workplace
/// and delegate is a `SubjectState` that takes the applied messages one by
/// one, and the numbers are its `tally`, so the history uses no rules of its
/// own. A fold in key order that stops after the messages sent before an
/// instant is exactly the state of that set of messages, so the last step
/// (one that holds the newest message) equals the current state: the
/// property test checks it for any order and split of a corpus.
///
/// Only the messages of workplace and delegate subjects matter; `HistoryFold`
/// wants them in key order and ignores others.
public enum HistoryStep: String, Sendable, CaseIterable {
    case day, hour

    public var seconds: Int64 {
        switch self {
        case .day: 86_400
        case .hour: 3_600
        }
    }
}

/// Whose numbers a history counts.
public enum HistorySubject: Sendable, Hashable {
    /// Every workplace, and every delegate.
    case overall
    /// The workplaces whose region (as of the end of each step) is this one,
    /// exactly as reported.
    case region(String)
    /// One workplace.
    case workplace(Slug)

    /// Reads `region:NAME` or `workplace:SLUG`; nil for any other text.
    public init?(text: String) {
        if text.hasPrefix("region:") {
            let name = String(text.dropFirst("region:".count))
            guard !name.isEmpty else { return nil }
            self = .region(name)
        } else if text.hasPrefix("workplace:") {
            guard let slug = Slug(String(text.dropFirst("workplace:".count))) else { return nil }
            self = .workplace(slug)
        } else {
            return nil
        }
    }

    public var text: String? {
        switch self {
        case .overall: nil
        case .region(let name): "region:\(name)"
        case .workplace(let id): "workplace:\(id)"
        }
    }
}

/// One step of a history.
public struct HistoryPoint: Sendable, Equatable {
    /// The step's start, in seconds since the epoch (UTC).
    public var start: Int64
    /// Striking workplaces at the end of the step.
    public var striking: Int64 = 0
    /// Their participants at the end of the step.
    public var participants: Int64 = 0
    /// Delegates held (detained, arrested, charged or sentenced, as the
    /// Summary counts them) at the end of the step.
    public var detained: Int64 = 0
    /// Delegates who became held during the step.
    public var taken: Int64 = 0
    /// Delegates who stopped being held during the step.
    public var released: Int64 = 0

    public init(start: Int64) { self.start = start }
}

/// The fold behind `Query.History`: feed it the applied messages in key
/// order, then read `points(from:through:)`.
public struct HistoryFold: Sendable {
    public let subject: HistorySubject
    public let step: HistoryStep
    private var workplaces: [Slug: SubjectState] = [:]
    private var delegates: [Slug: SubjectState] = [:]
    /// The running numbers, as of the last message applied.
    private var current = HistoryPoint(start: 0)
    /// Per step index with a change, the numbers at its end (taken and
    /// released during it), in step order.
    private var steps: [HistoryPoint] = []
    private var lastKey: OrderKey?

    public init(subject: HistorySubject, step: HistoryStep) {
        self.subject = subject
        self.step = step
    }

    /// The step index an instant falls in.
    public func stepStart(_ epochSeconds: Int64) -> Int64 {
        let size = step.seconds
        let (quotient, remainder) = epochSeconds.quotientAndRemainder(dividingBy: size)
        return (remainder < 0 ? quotient - 1 : quotient) * size
    }

    /// The first and last steps that saw a change of this subject, if any.
    public var span: (first: Int64, last: Int64)? {
        guard let first = steps.first, let last = steps.last else { return nil }
        return (first.start, last.start)
    }

    /// Applies the next message in key order. Messages of other subjects than
    /// workplaces and delegates change nothing.
    public mutating func apply(_ message: Message) {
        if let lastKey { precondition(!(message.key < lastKey), "HistoryFold wants messages in key order") }
        lastKey = message.key
        let start = stepStart(message.sentAt.epochSeconds)
        switch message.subject {
        case .workplace(let id):
            if case .workplace(let only) = subject, only != id { return }
            let before = workplaces[id] ?? SubjectState(empty: .workplace(id))
            var after = before
            after.apply(message)
            workplaces[id] = after
            let (oldStriking, oldParticipants) = contribution(before)
            let (newStriking, newParticipants) = contribution(after)
            guard oldStriking != newStriking || oldParticipants != newParticipants else { return }
            enter(start)
            current.striking += newStriking - oldStriking
            current.participants += newParticipants - oldParticipants
        case .delegate(let id):
            guard subject == .overall else { return }
            let before = delegates[id] ?? SubjectState(empty: .delegate(id))
            var after = before
            after.apply(message)
            delegates[id] = after
            let wasHeld = before.tally.detained == 1
            let isHeld = after.tally.detained == 1
            guard wasHeld != isHeld else { return }
            enter(start)
            if isHeld {
                current.detained += 1
                current.taken += 1
            } else {
                current.detained -= 1
                current.released += 1
            }
        default:
            return
        }
        steps[steps.count - 1] = current
    }

    /// Makes `start` the current step, closing the one before.
    private mutating func enter(_ start: Int64) {
        if steps.last?.start == start { return }
        current.start = start
        current.taken = 0
        current.released = 0
        steps.append(current)
    }

    /// A workplace's striking (0 or 1) and participants for this subject:
    /// its tally, as the Summary counts it, within the region asked for.
    private func contribution(_ state: SubjectState) -> (Int64, Int64) {
        if case .region(let region) = subject {
            guard case .workplace(let workplace) = state, workplace.region?.value == region else { return (0, 0) }
        }
        let tally = state.tally
        return (tally.striking, tally.participants)
    }

    /// The steps that start between `from` and `through` (both step starts),
    /// at most `limit` of them; each carries the numbers as of its end.
    public func points(from: Int64, through: Int64, limit: Int) -> [HistoryPoint] {
        guard from <= through, limit > 0 else { return [] }
        // The last step with a change at or before `from`.
        var low = 0, high = steps.count
        while low < high {
            let middle = (low + high) / 2
            if steps[middle].start <= from { low = middle + 1 } else { high = middle }
        }
        var index = low  // the first step after `from`
        var carried = HistoryPoint(start: from)
        if low > 0 {
            let previous = steps[low - 1]
            carried.striking = previous.striking
            carried.participants = previous.participants
            carried.detained = previous.detained
            if previous.start == from {
                carried.taken = previous.taken
                carried.released = previous.released
            }
        }
        var result: [HistoryPoint] = [carried]
        var start = from
        while result.count < limit {
            let (next, overflow) = start.addingReportingOverflow(step.seconds)
            guard !overflow, next <= through else { break }
            start = next
            var point = HistoryPoint(start: start)
            if index < steps.count, steps[index].start == start {
                point = steps[index]
                index += 1
            } else {
                point.striking = carried.striking
                point.participants = carried.participants
                point.detained = carried.detained
            }
            carried = point
            result.append(point)
        }
        return result
    }
}
