import GRDB
import StrikeCore

// History (docs/protocol.md, "History"): the applied messages of workplaces
// and delegates, replayed in key order by the core's HistoryFold, which is
// the state's own fold (SubjectState) stopped at each step's end. No table
// keeps history: a store that kept per-day rows would need its own rules to
// re-fold them when a late or conflicting message changes the past, and the
// fold already has those rules.
//
// Cost: one pass over the workplace and delegate messages up to the end of
// the last step asked for, whichever page is asked for; the reply is one
// page of at most 1000 steps, whatever the span.

/// The answer to History: one page of steps.
public struct HistoryRecord: Sendable, Equatable {
    public var step: HistoryStep
    public var points: [HistoryPoint]
    /// The start of the step after the last returned, as a cursor; nil on the last page.
    public var next: String?
    /// The sent_at of the newest applied message (any subject), in UTC.
    public var newest: String?
}

extension Store {
    /// One page of the history of `subject` between the steps that hold
    /// `from` and `to` (epoch seconds). Without `from`, it starts at the
    /// first step that changed the subject; without `to`, it ends at the
    /// step of the newest applied message, so that the last step equals the
    /// current state. Nil when `subject` is a workplace that no message
    /// reports on or names.
    public static func history(subject: HistorySubject, from: Int64?, to: Int64?, step: HistoryStep,
                               page: PageRequest) throws(QueryError) -> StoreQuery<HistoryRecord?> {
        try histories(subjects: [subject], from: from, to: to, step: step, page: page).map { $0?.first }
    }

    /// The most regions HistoryByRegion takes in one call.
    public static let maximumHistoryRegions = 10

    /// The same page of the history of each of `subjects`, from one pass
    /// over the messages: the steps line up, so one cursor serves them all.
    /// Without `from`, the first step is the first that changed any of them.
    public static func histories(subjects: [HistorySubject], from: Int64?, to: Int64?, step: HistoryStep,
                                 page: PageRequest) throws(QueryError) -> StoreQuery<[HistoryRecord]?> {
        let cursor = try Cursor.history(page.cursor, step: step)
        let limit = page.clamped(to: PageRequest.maximumLimit)
        return StoreQuery { db in
            for subject in subjects {
                if case .workplace(let id) = subject,
                   try !Self.exists(db, table: "workplace", kind: .workplace, id: id.rawValue) {
                    return nil
                }
            }
            var fold = HistoryFold(subjects: subjects, step: step)
            let newestKey = try String.fetchOne(db, sql: "SELECT max(k) FROM message")
            let newest = Self.instant(newestKey)
            let newestStep = newest.flatMap(Timestamp.init).map { fold.stepStart($0.epochSeconds) }
            guard let last = to.map(fold.stepStart) ?? newestStep else {
                return subjects.map { _ in HistoryRecord(step: step, points: [], next: nil, newest: newest) }
            }
            // Messages sent before the end of the last step: their keys sort
            // below that instant's text (a key starts with its UTC instant).
            let (end, overflow) = last.addingReportingOverflow(step.seconds)
            let bound = overflow ? "~" : String(Timestamp.utcText(epochSeconds: end).dropLast())
            var arguments: StatementArguments = [bound]
            // Only the messages that can change the subjects' numbers: a
            // region's or a workplace's history has no delegates in it.
            let workplaceSubjects = "(m.subject >= 'workplace/' AND m.subject < 'workplace0')"
            let subjectsSQL: String
            if subjects.contains(.overall) {
                subjectsSQL = workplaceSubjects + " OR (m.subject >= 'delegate/' AND m.subject < 'delegate0')"
            } else if subjects.count == 1, case .workplace(let id) = subjects[0] {
                subjectsSQL = "m.subject = ?"
                arguments += [Subject.workplace(id).key]
            } else {
                subjectsSQL = workplaceSubjects
            }
            let rows = try Row.fetchCursor(db, sql: """
                SELECT v.body FROM message m JOIN version v ON v.id = m.version
                WHERE m.k < ? AND m.report = 0 AND (\(subjectsSQL)) ORDER BY m.k
                """, arguments: arguments)
            while let row = try rows.next() {
                let body: String = row[0]
                guard let message = MessageReader.read(Array(body.utf8), policy: .stored).message else {
                    throw StoreError.corrupt("a stored message no longer validates")
                }
                fold.apply(message)
            }
            let first = cursor ?? from.map(fold.stepStart) ?? fold.span?.first ?? last
            return subjects.indices.map { index in
                var points = fold.points(index, from: first, through: last, limit: limit + 1)
                var next: String?
                if points.count > limit {
                    points.removeLast()
                    next = points.last.map { String($0.start) }
                }
                return HistoryRecord(step: step, points: points, next: next, newest: newest)
            }
        }
    }

    public func history(subject: HistorySubject, from: Int64?, to: Int64?, step: HistoryStep,
                        page: PageRequest) async throws(QueryError) -> HistoryRecord? {
        try await read(Store.history(subject: subject, from: from, to: to, step: step, page: page))
    }
}

extension Cursor {
    /// The step after the one that starts at the cursor's second.
    static func history(_ cursor: String?, step: HistoryStep) throws(QueryError) -> Int64? {
        guard let cursor else { return nil }
        guard let start = Int64(cursor), start % step.seconds == 0 else { throw .invalidCursor }
        let (next, overflow) = start.addingReportingOverflow(step.seconds)
        guard !overflow else { throw .invalidCursor }
        return next
    }
}
