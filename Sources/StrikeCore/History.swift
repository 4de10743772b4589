// How the picture changed over time (`Query.History`): per step (a UTC day
// or hour), the striking workplaces and their participants as of the end of
// the step, and the delegates held then, taken into custody and released
// during it.
//
// The history is the state's own fold replayed in key order: each workplace
// and delegate is a `SubjectState` that takes the applied messages one by
// one, and the numbers are its `tally`, so the history uses no rules of its
// own. A fold in key order that stops after the messages sent before an
// instant is exactly the state of that set of messages, so the last step
// (one that holds the newest message) equals the current state: the
// property test checks it for any order and split of a corpus.
//
// Only the messages of workplace and delegate subjects matter; `HistoryFold`
// wants them in key order and ignores others.

/// The length of a history step: a UTC day or hour.
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

/// The fold behind `Query.History` and `HistoryByRegion`: feed it the
/// applied messages in key order, then read `points(from:through:limit:)`.
/// It follows several subjects in one pass (each region of HistoryByRegion)
/// over the same workplace and delegate states, so that the messages are
/// read and folded once however many subjects are asked for.
public struct HistoryFold: Sendable {
    /// One subject's numbers: the running point and the steps that changed it.
    struct Track: Sendable {
        var subject: HistorySubject
        var current = HistoryPoint(start: 0)
        var steps: [HistoryPoint] = []
    }

    public let step: HistoryStep
    private var tracks: [Track]
    private var workplaces: [Slug: SubjectState] = [:]
    private var delegates: [Slug: SubjectState] = [:]
    private var lastKey: OrderKey?
    private let followsDelegates: Bool
    /// The one workplace all subjects are about, if they all are.
    private let onlyWorkplace: Slug?

    public init(subject: HistorySubject, step: HistoryStep) {
        self.init(subjects: [subject], step: step)
    }

    public init(subjects: [HistorySubject], step: HistoryStep) {
        precondition(!subjects.isEmpty)
        self.step = step
        tracks = subjects.map { Track(subject: $0) }
        followsDelegates = subjects.contains(.overall)
        let workplaces = subjects.compactMap { subject -> Slug? in
            if case .workplace(let id) = subject { return id }
            return nil
        }
        onlyWorkplace = workplaces.count == subjects.count && Set(workplaces).count == 1 ? workplaces[0] : nil
    }

    public var subject: HistorySubject { tracks[0].subject }

    /// The start of the step an instant falls in.
    public func stepStart(_ epochSeconds: Int64) -> Int64 {
        let size = step.seconds
        let (quotient, remainder) = epochSeconds.quotientAndRemainder(dividingBy: size)
        return (remainder < 0 ? quotient - 1 : quotient) * size
    }

    /// The first and last steps that saw a change of any subject, if any.
    public var span: (first: Int64, last: Int64)? {
        let firsts = tracks.compactMap { $0.steps.first?.start }
        let lasts = tracks.compactMap { $0.steps.last?.start }
        guard let first = firsts.min(), let last = lasts.max() else { return nil }
        return (first, last)
    }

    /// Applies the next message in key order. Messages of other subjects than
    /// workplaces and delegates change nothing.
    public mutating func apply(_ message: Message) {
        if let lastKey { precondition(!(message.key < lastKey), "HistoryFold wants messages in key order") }
        lastKey = message.key
        let start = stepStart(message.sentAt.epochSeconds)
        switch message.subject {
        case .workplace(let id):
            if let onlyWorkplace, onlyWorkplace != id { return }
            let before = workplaces[id] ?? SubjectState(empty: .workplace(id))
            var after = before
            after.apply(message)
            workplaces[id] = after
            for index in tracks.indices {
                let (oldStriking, oldParticipants) = contribution(before, to: tracks[index].subject)
                let (newStriking, newParticipants) = contribution(after, to: tracks[index].subject)
                guard oldStriking != newStriking || oldParticipants != newParticipants else { continue }
                tracks[index].enter(start)
                tracks[index].current.striking += newStriking - oldStriking
                tracks[index].current.participants += newParticipants - oldParticipants
                tracks[index].save()
            }
        case .delegate(let id):
            guard followsDelegates else { return }
            let before = delegates[id] ?? SubjectState(empty: .delegate(id))
            var after = before
            after.apply(message)
            delegates[id] = after
            let wasHeld = before.tally.detained == 1
            let isHeld = after.tally.detained == 1
            guard wasHeld != isHeld else { return }
            for index in tracks.indices where tracks[index].subject == .overall {
                tracks[index].enter(start)
                if isHeld {
                    tracks[index].current.detained += 1
                    tracks[index].current.taken += 1
                } else {
                    tracks[index].current.detained -= 1
                    tracks[index].current.released += 1
                }
                tracks[index].save()
            }
        default:
            return
        }
    }

    /// A workplace's striking (0 or 1) and participants for `subject`: its
    /// tally, as the Summary counts it, within the region or workplace asked for.
    private func contribution(_ state: SubjectState, to subject: HistorySubject) -> (Int64, Int64) {
        guard case .workplace(let workplace) = state else { return (0, 0) }
        switch subject {
        case .overall: break
        case .region(let region): guard workplace.region?.value == region else { return (0, 0) }
        case .workplace(let id): guard workplace.id == id else { return (0, 0) }
        }
        let tally = state.tally
        return (tally.striking, tally.participants)
    }

    /// The steps of subject number `index` that start between `from` and
    /// `through` (both step starts), at most `limit` of them; each carries
    /// the numbers as of its end.
    public func points(_ index: Int = 0, from: Int64, through: Int64, limit: Int) -> [HistoryPoint] {
        let steps = tracks[index].steps
        guard from <= through, limit > 0 else { return [] }
        // The last step with a change at or before `from`.
        var low = 0, high = steps.count
        while low < high {
            let middle = (low + high) / 2
            if steps[middle].start <= from { low = middle + 1 } else { high = middle }
        }
        var next = low  // the first step after `from`
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
            let (following, overflow) = start.addingReportingOverflow(step.seconds)
            guard !overflow, following <= through else { break }
            start = following
            var point = HistoryPoint(start: start)
            if next < steps.count, steps[next].start == start {
                point = steps[next]
                next += 1
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

extension HistoryFold.Track {
    /// Makes `start` the current step, closing the one before.
    mutating func enter(_ start: Int64) {
        if steps.last?.start == start { return }
        current.start = start
        current.taken = 0
        current.released = 0
        steps.append(current)
    }

    /// Records the running numbers as the current step's.
    mutating func save() { steps[steps.count - 1] = current }
}
