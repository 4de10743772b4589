import Crypto
import Foundation
import GRDB
import StrikeCore

/// One copy to reconcile: what the reader made of it and where it came from.
public struct CopyInput: Sendable {
    public let reading: CopyReading
    /// `file` or `file:line`, for the record and for people.
    public let source: String

    public init(reading: CopyReading, source: String) {
        self.reading = reading
        self.source = source
    }
}

/// What became of a copy. A decision, not a flag (STYLE.md).
public enum CopyOutcome: Sendable, Equatable {
    /// A new version, now part of the state.
    case applied
    /// Its JSON value (or bytes) was seen before, whatever became of the first.
    case duplicate
    /// A new version that is invalid or in conflict; it is counted as rejected.
    case rejected(Rejection)

    public var rejection: Rejection? {
        if case .rejected(let rejection) = self { return rejection }
        return nil
    }
}

/// Things worth telling an operator that happened while reconciling.
public enum ReconcileEvent: Sendable, Equatable {
    /// Two or more valid versions of one (origin, seq): all are rejected, and
    /// `removedApplied` says whether one had been applied and is now taken out.
    case conflict(Envelope, removedApplied: Bool)
    /// A copy of `origin` numbered beyond its highest seq so far plus one:
    /// seqs `from...to` have not arrived (yet).
    case gap(origin: Slug, from: Int64, to: Int64)
    /// Forgetting one side of a conflict left a single valid version, which
    /// is applied again (an operator's requeue).
    case restored(Envelope, type: MessageType, subject: String)
    /// A message applied as a report from another origin: its origin does
    /// not speak for the body it is about, so it moved nothing.
    case report(Envelope, type: MessageType, body: BodyRef)
    /// The scopes changed since the state was folded: `messages` applied
    /// messages moved in or out of scope, and `subjects` were folded again.
    case rescoped(messages: Int, subjects: Int)
}

/// Applies copies to the state inside one write transaction (docs/design.md, "Reconciliation").
///
/// Each new valid message touches one subject: its row is read, the message is
/// folded in (O(1), commutative), and the row written back. Only a conflict
/// that takes out an applied message re-folds that message's subject from its
/// remaining messages. Counters and the Summary's tallies are accumulated in
/// memory and written once, by `finish()`, before the transaction commits.
///
/// Within one transaction a subject's row is read once, every message of the
/// batch is folded into it in memory, and it is written back once, in key
/// order, by `finish()` (a courier's batch holds many reports on the same
/// workplaces): the same state as row by row, with a fraction of the B-tree
/// work. Anything that reads subject rows from the database (a conflict's
/// re-fold, `forget`) writes the pending ones first.
public struct Reconciler: ~Copyable {
    private let db: Database
    private let now: Int64
    /// What every origin speaks for; the state is folded under these.
    private let speakers: Speakers
    /// Whether the store's scopes were compared with `speakers` in this
    /// transaction (once, before its first change).
    private var scopesChecked = false
    private var tally = Tally()
    private var applied: Int64 = 0
    private var duplicates: Int64 = 0
    private var rejected: Int64 = 0
    private var statements = Statements()
    private var subjectRows: SubjectRows
    /// Subjects folded in this transaction and not yet written: their state
    /// as read, and as it is now.
    private var pending: [String: (subject: Subject, before: SubjectState, state: SubjectState)] = [:]
    /// How many more (or fewer) applied messages name each entity than the
    /// `entity` table says: written once per entity by `finish()`.
    private var entityDeltas: [EntityRef: Int64] = [:]
    /// Subjects that lost an applied message to a conflict in this
    /// transaction, by key: each is re-folded from its messages once, by
    /// `flushSubjects()`. Re-folding at every conflict read and validated
    /// the subject's messages once per conflict: 4,000 reports on one
    /// workplace and as many rival versions took 93 s, in one transaction.
    private var stale: Set<String> = []
    /// The highest seq that has arrived per origin, as far as this transaction knows.
    private var highestArrival: [String: Int64] = [:]
    public private(set) var events: [ReconcileEvent] = []

    /// The statements of the per-copy path, prepared once per transaction
    /// and run through SQLite's C API (see `DirectStatement`): GRDB's
    /// arguments and rows cost more than the statements' own work here.
    private struct Statements {
        var versionsOf: DirectStatement?
        var knownBare: DirectStatement?
        var highestArrival: DirectStatement?
        var insertArrival: DirectStatement?
        var insertVersion: DirectStatement?
        var insertMessage: DirectStatement?
        var insertReport: DirectStatement?
        var addEntity: DirectStatement?
    }

    private static func prepared(_ db: Database, _ slot: inout DirectStatement?, _ sql: String) throws -> DirectStatement {
        if let statement = slot {
            statement.reset()
            return statement
        }
        let statement = try DirectStatement(db, sql: sql)
        slot = statement
        return statement
    }

    /// - Parameters:
    ///   - now: seconds since the epoch, recorded as first-seen times.
    ///   - speakers: what every origin speaks for (`SignatureRules.speakers`
    ///     of the rules the copies were read under). When the store's state
    ///     was folded under other scopes, the first change of the
    ///     transaction first brings it to these (`adoptScopes`).
    public init(_ db: Database, now: Int64, speakers: Speakers = .everyone) {
        self.db = db
        self.now = now
        self.speakers = speakers
        self.subjectRows = SubjectRows(db)
    }

    /// Reconciles one copy. Must be followed by `finish()` in the same transaction.
    public mutating func ingest(_ copy: CopyInput) throws -> CopyOutcome {
        try ingest(copy.reading, source: copy.source)
    }

    /// Reconciles one copy's reading, taken where it lies (the spool's batch
    /// holds its copies in another shape than `CopyInput`; making one copied
    /// every reading).
    public mutating func ingest(_ reading: CopyReading, source: String) throws -> CopyOutcome {
        if !scopesChecked { try adoptScopes() }
        let hash = Self.hash(reading.identity)
        // Every version of this (origin, seq), valid or not: one look-up both
        // finds a duplicate (the same hash) and the rivals of a new version.
        var rivals: [(id: Int64, applied: Bool)] = []
        var sawInvalid = false
        // An unsigned copy of a message applied already is that message, not
        // a problem: a duplicate, as it would be had it come first (see
        // dropRefusedCopies). Only copies refused for their signature pay
        // for this hash.
        var appliedIfSame: Data?
        if case .unverified(let bytes) = reading.identity { appliedIfSame = Self.hash(.value(bytes)) }
        if let envelope = reading.envelope {
            let statement = try Self.prepared(db, &statements.versionsOf, "SELECT id, state, hash FROM version WHERE origin = ? AND seq = ?")
            statement.bind(1, envelope.origin.rawValue)
            statement.bind(2, envelope.seq)
            while try statement.step() {
                if statement.blobEquals(2, hash)
                    || (appliedIfSame.map { statement.textEquals(1, "applied") && statement.blobEquals(2, $0) } ?? false) {
                    statement.reset()
                    duplicates += 1
                    return .duplicate
                }
                if !statement.textEquals(1, "invalid") {
                    rivals.append((id: statement.int64(0), applied: statement.textEquals(1, "applied")))
                } else {
                    sawInvalid = true
                }
            }
        } else {
            let statement = try Self.prepared(db, &statements.knownBare, "SELECT 1 FROM version WHERE origin IS NULL AND hash = ?")
            statement.bind(1, blob: hash)
            let known = try statement.step()
            statement.reset()
            if known {
                duplicates += 1
                return .duplicate
            }
        }
        if let envelope = reading.envelope, reading.countsAsArrived {
            let origin = envelope.origin.rawValue
            let highest: Int64
            if let known = highestArrival[origin] {
                highest = known
            } else {
                let statement = try Self.prepared(db, &statements.highestArrival, "SELECT max(seq) FROM arrival WHERE origin = ?")
                statement.bind(1, origin)
                highest = try statement.step() ? statement.int64OrNil(0) ?? 0 : 0
                statement.reset()
            }
            highestArrival[origin] = max(highest, envelope.seq)
            let insert = try Self.prepared(db, &statements.insertArrival, "INSERT OR IGNORE INTO arrival (origin, seq) VALUES (?, ?)")
            insert.bind(1, origin)
            insert.bind(2, envelope.seq)
            try insert.execute()
            // Not `highest + 1`: a seq of 2^63 - 1 may have arrived. Here
            // 0 <= highest < seq, so neither side can overflow.
            if envelope.seq > highest, envelope.seq - highest > 1 {
                events.append(.gap(origin: envelope.origin, from: highest + 1, to: envelope.seq - 1))
            }
        }
        switch reading.verdict {
        case .failure(let rejection):
            _ = try insertVersion(hash: hash, envelope: reading.envelope, state: "invalid", rejection: rejection, body: nil, source: source)
            rejected += 1
            return .rejected(rejection)
        case .success(let message):
            let envelope = Envelope(origin: message.origin, seq: message.seq)
            let body = message.canonical
            if rivals.isEmpty {
                let version = try insertVersion(hash: hash, envelope: envelope, state: "applied", rejection: nil, body: body, source: source)
                try apply(message, version: version)
                applied += 1
                if sawInvalid { try dropRefusedCopies(of: message) }
                return .applied
            }
            let conflict = Self.conflictRejection(envelope, versions: rivals.count + 1)
            _ = try insertVersion(hash: hash, envelope: envelope, state: "conflict", rejection: conflict, body: body, source: source)
            rejected += 1
            var removedApplied = false
            for rival in rivals {
                try db.cachedStatement(sql: "UPDATE version SET state = 'conflict', code = ?, detail = ? WHERE id = ?")
                    .execute(arguments: [conflict.code.rawValue, conflict.detail, rival.id])
                if rival.applied {
                    try unapply(envelope)
                    applied -= 1
                    rejected += 1
                    removedApplied = true
                }
            }
            events.append(.conflict(envelope, removedApplied: removedApplied))
            return .rejected(conflict)
        }
    }

    /// Counts as duplicates, no longer rejected, the copies of `message`
    /// (just applied) that were refused for their signature alone: the same
    /// message unsigned, or signed as now but before its origin's key was in
    /// the keyring. In either order the counters end the same: an unsigned
    /// copy after the genuine one is a duplicate too (see ingest). Their
    /// quarantined files stay, as evidence. A copy changed after signing,
    /// or signed by another key, is another claim, and stays rejected. Only
    /// called when the look-up of this (origin, seq) saw an invalid version,
    /// so the two hashes cost nothing on the common path.
    private mutating func dropRefusedCopies(of message: Message) throws {
        try db.execute(
            sql: "DELETE FROM version WHERE origin = ? AND seq = ? AND state = 'invalid' AND hash IN (?, ?)",
            arguments: [message.origin.rawValue, message.seq, Self.hash(.unverified(message.content)), Self.hash(.unverified(message.canonical))])
        rejected -= Int64(db.changesCount)
        duplicates += Int64(db.changesCount)
    }

    /// Forgets a version, as an operator's requeue does: its copy will be
    /// judged afresh when it comes back. If it was one side of a conflict that
    /// leaves a single valid version, that version is applied again.
    public mutating func forget(_ identity: CopyReading.Identity) throws -> Bool {
        if !scopesChecked { try adoptScopes() }
        let hash = Self.hash(identity)
        // The envelope is a function of the value, as when the copy was read.
        let envelope: Envelope? = switch identity {
        case .value(let bytes), .unverified(let bytes): MessageReader.read(bytes, policy: .stored).envelope
        case .bytes, .bytesDigest: nil
        }
        let found = if let envelope {
            try Row.fetchOne(db, sql: "SELECT id, origin, seq, state FROM version WHERE origin = ? AND seq = ? AND hash = ?",
                             arguments: [envelope.origin.rawValue, envelope.seq, hash])
        } else {
            try Row.fetchOne(db, sql: "SELECT id, origin, seq, state FROM version WHERE origin IS NULL AND hash = ?", arguments: [hash])
        }
        guard let row = found else { return false }
        try forget(row)
        return true
    }

    /// Forgets the rejected (invalid or conflicting) version with this
    /// identity hash, as an operator who decided against it does; never an
    /// applied one. If it was one side of a conflict that leaves a single
    /// valid version, that version is applied again (a `restored` event).
    /// Returns false when no rejected version has this hash.
    public mutating func forgetRejected(hash: Data) throws -> Bool {
        if !scopesChecked { try adoptScopes() }
        // Through the partial index of rejected versions: a handful of rows,
        // where the hash alone has no index.
        guard let row = try Row.fetchOne(
            db, sql: "SELECT id, origin, seq, state FROM version WHERE state <> 'applied' AND hash = ?", arguments: [hash]
        ) else { return false }
        try forget(row)
        return true
    }

    /// Forgets the version of `row` (id, origin, seq, state).
    private mutating func forget(_ row: Row) throws {
        try flushSubjects()
        let id: Int64 = row[0]
        let origin: String? = row[1]
        let seq: Int64? = row[2]
        let state: String = row[3]
        if state == "applied", let origin = Slug(origin), let seq {
            try unapply(Envelope(origin: origin, seq: seq))
            applied -= 1
        } else {
            rejected -= 1
        }
        try db.execute(sql: "DELETE FROM version WHERE id = ?", arguments: [id])
        if state == "conflict", let origin, let seq {
            let remaining = try Row.fetchAll(
                db, sql: "SELECT id, body FROM version WHERE origin = ? AND seq = ? AND state = 'conflict'",
                arguments: [origin, seq]
            )
            if remaining.count == 1, let body: String = remaining[0][1] {
                let restored: Int64 = remaining[0][0]
                guard let message = MessageReader.read(Array(body.utf8), policy: .stored).message else {
                    throw StoreError.corrupt("stored version of \(origin)#\(seq) no longer validates")
                }
                try db.execute(sql: "UPDATE version SET state = 'applied', code = NULL, detail = NULL WHERE id = ?", arguments: [restored])
                try apply(message, version: restored)
                rejected -= 1
                applied += 1
                events.append(.restored(
                    Envelope(origin: message.origin, seq: message.seq), type: message.type, subject: message.subject.key))
            }
        }
    }

    /// Writes the accumulated counters and tallies. Call once, last.
    public mutating func finish() throws {
        try flushSubjects()
        try flushEntities()
        let deltas: [(String, Int64)] = [("applied", applied), ("duplicates", duplicates), ("rejected", rejected)]
            + zip(Tally.names, tally.values).map { ($0, $1) }
        for (name, delta) in deltas where delta != 0 {
            // Added here, not by `value + excluded.value` in SQL, which turns
            // an overflow into a REAL. The counts' limit keeps every total
            // within 64 bits (ValidationPolicy.maximumCount); this is the guard.
            let current = try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM tally WHERE name = ?"), arguments: [name]) ?? 0
            let (total, overflow) = current.addingReportingOverflow(delta)
            guard !overflow else {
                throw StoreError.corrupt("the total \(name) would leave 64 bits (\(current) + \(delta)); nothing of this batch was recorded")
            }
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO tally (name, value) VALUES (?, ?)").execute(arguments: [name, total])
        }
        tally = Tally()
        (applied, duplicates, rejected) = (0, 0, 0)
    }

    // MARK: - Applying and removing messages

    private mutating func apply(_ message: Message, version: Int64) throws {
        let subject = message.subject
        let key = subject.key
        // A table look-up and a few slug comparisons, without allocation.
        let inScope = speakers.admits(message)
        let insertMessage = try Self.prepared(db, &statements.insertMessage, "INSERT INTO message (origin, seq, k, type, subject, version, report) VALUES (?, ?, ?, ?, ?, ?, ?)")
        insertMessage.bind(1, message.origin.rawValue)
        insertMessage.bind(2, message.seq)
        insertMessage.bind(3, message.key.rawValue)
        insertMessage.bind(4, message.type.rawValue)
        insertMessage.bind(5, key)
        insertMessage.bind(6, version)
        insertMessage.bind(7, inScope ? 0 : 1)
        try insertMessage.execute()
        guard inScope else {
            // A report from another origin: listed with its body, folded
            // into nothing, naming nothing unresolved.
            let body = message.aboutBody!
            try insertReport(message, body: body)
            events.append(.report(Envelope(origin: message.origin, seq: message.seq), type: message.type, body: body))
            return
        }
        for ref in message.references {
            entityDeltas[ref, default: 0] += 1
        }
        // One look-up of the subject's key for a subject already pending,
        // and the state folded where it lies.
        if let index = pending.index(forKey: key) {
            pending.values[index].state.apply(message)
        } else {
            let state = try subjectRows.load(subject)
            var entry = (subject: subject, before: state, state: state)
            entry.state.apply(message)
            pending[key] = entry
        }
    }

    /// Writes the subjects folded in memory, in key order, and counts their tallies.
    private mutating func flushSubjects() throws {
        // Taken out of the dictionary, not copied out of it.
        var entries = pending
        pending = [:]
        for key in entries.keys.sorted() {
            guard let entry = entries.removeValue(forKey: key) else { continue }
            // An older message that changes nothing leaves the row alone.
            if entry.state != entry.before {
                try subjectRows.save(entry.state, subject: entry.subject, before: entry.before)
                try addTally(entry.state.tally, minus: entry.before.tally)
            }
        }
        // After the pending rows: a stale subject's row as written above
        // still holds what it lost; its re-fold replaces it.
        let keys = stale.sorted()
        stale = []
        for key in keys { try refold(key) }
    }

    /// Counts a subject's change in the Summary's tallies.
    private mutating func addTally(_ after: Tally, minus before: Tally) throws {
        guard let sum = tally.adding(after, minus: before) else {
            throw StoreError.corrupt("a Summary total would leave 64 bits; nothing of this batch was recorded")
        }
        tally = sum
    }

    /// Writes how many applied messages name each entity, in key order; an
    /// entity no applied message names any more leaves the table.
    private mutating func flushEntities() throws {
        let deltas = entityDeltas
        entityDeltas = [:]
        for (ref, delta) in deltas.sorted(by: { $0.key < $1.key }) where delta != 0 {
            if delta > 0 {
                let add = try Self.prepared(db, &statements.addEntity, """
                    INSERT INTO entity (kind, id, messages) VALUES (?, ?, ?)
                    ON CONFLICT (kind, id) DO UPDATE SET messages = messages + excluded.messages
                    """)
                add.bind(1, ref.kind.rawValue)
                add.bind(2, ref.id.rawValue)
                add.bind(3, delta)
                try add.execute()
                continue
            }
            // Only a conflict or an operator's forget takes messages back: rare.
            let arguments: StatementArguments = [ref.kind.rawValue, ref.id.rawValue]
            guard let count = try Int64.fetchOne(db, sql: "SELECT messages FROM entity WHERE kind = ? AND id = ?", arguments: arguments),
                  count + delta >= 0 else {
                throw StoreError.corrupt("\(ref.kind.rawValue) \(ref.id) is named by fewer applied messages than are taken out")
            }
            if count + delta == 0 {
                try db.execute(sql: "DELETE FROM entity WHERE kind = ? AND id = ?", arguments: arguments)
            } else {
                try db.execute(sql: "UPDATE entity SET messages = ? WHERE kind = ? AND id = ?", arguments: [count + delta] + arguments)
            }
        }
    }

    /// Takes an applied message out of the state; its subject alone is
    /// re-folded, once per transaction (`stale`).
    private mutating func unapply(_ envelope: Envelope) throws {
        guard let row = try Row.fetchOne(
            db, sql: "SELECT m.subject, v.body, m.report FROM message m JOIN version v ON v.id = m.version WHERE m.origin = ? AND m.seq = ?",
            arguments: [envelope.origin.rawValue, envelope.seq]
        ) else { return }
        let subjectKey: String = row[0]
        guard let body: String = row[1], let removed = MessageReader.read(Array(body.utf8), policy: .stored).message else {
            throw StoreError.corrupt("the stored version of \(envelope.origin)#\(envelope.seq) no longer validates")
        }
        try db.execute(sql: "DELETE FROM message WHERE origin = ? AND seq = ?", arguments: [envelope.origin.rawValue, envelope.seq])
        if (row[2] as Int64) != 0 {
            // A report moved nothing: only its listing goes.
            try deleteReport(removed)
            return
        }
        // The entities it named are named by one message fewer.
        for ref in removed.references {
            entityDeltas[ref, default: 0] -= 1
        }
        stale.insert(subjectKey)
    }

    private mutating func insertReport(_ message: Message, body: BodyRef) throws {
        let insert = try Self.prepared(db, &statements.insertReport, "INSERT INTO report (body, k, origin, seq, type, subject) VALUES (?, ?, ?, ?, ?, ?)")
        insert.bind(1, body.description)
        insert.bind(2, message.key.rawValue)
        insert.bind(3, message.origin.rawValue)
        insert.bind(4, message.seq)
        insert.bind(5, message.type.rawValue)
        insert.bind(6, message.subject.key)
        try insert.execute()
    }

    private func deleteReport(_ message: Message) throws {
        guard let body = message.aboutBody else {
            throw StoreError.corrupt("\(message.origin)#\(message.seq) is recorded as a report, but is about no body")
        }
        try db.execute(sql: "DELETE FROM report WHERE body = ? AND k = ?", arguments: [body.description, message.key.rawValue])
    }

    // MARK: - Scopes

    /// Brings the state to `speakers` when it was folded under other scopes
    /// (a reload or a restart with another keyring, a store from before
    /// scopes): every applied message of an origin whose scopes changed is
    /// judged again, those that moved in or out of scope change places, and
    /// their subjects are folded again by `finish()`. The state is then what
    /// a fresh ingest of the same messages under `speakers` gives. Costs one
    /// look-up when nothing changed; every change of a transaction calls it
    /// first, so call it directly only to adopt new scopes at once.
    public mutating func adoptScopes() throws {
        scopesChecked = true
        let stored = try Row.fetchOne(db, sql: "SELECT unlisted, fingerprint FROM scope_rules WHERE id = 1")
        guard let stored else { throw StoreError.corrupt("the scopes the state was folded under are not recorded") }
        if (stored[1] as Int64) == speakers.fingerprint, (stored[0] as String) == speakers.unlisted.rawValue { return }
        guard let unlisted = Speakers.Unlisted(rawValue: stored[0]) else {
            throw StoreError.corrupt("unknown scope rule \(stored[0] as String)")
        }
        var table: [Slug: Scopes] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT origin, scopes FROM scope") {
            guard let origin = Slug(row[0] as String),
                  let scopes = Scopes((row[1] as String).split(separator: " ").compactMap(Scope.init)) else {
                throw StoreError.corrupt("the recorded scopes of \(row[0] as String) do not read")
            }
            table[origin] = scopes
        }
        let old = Speakers(table: table, unlisted: unlisted)
        try flushSubjects()
        var moved = 0
        let before = stale.count
        let origins = try String.fetchAll(db, sql: "SELECT DISTINCT origin FROM message")
        for originText in origins {
            guard let origin = Slug(originText) else { throw StoreError.corrupt("an applied message has the origin \(originText)") }
            if old.scopes(for: origin) == speakers.scopes(for: origin) { continue }
            let rows = try Row.fetchAll(db, sql: """
                SELECT m.seq, m.report, v.body FROM message m JOIN version v ON v.id = m.version WHERE m.origin = ?
                """, arguments: [originText])
            for row in rows {
                guard let body: String = row[2], let message = MessageReader.read(Array(body.utf8), policy: .stored).message else {
                    throw StoreError.corrupt("the stored version of \(originText)#\(row[0] as Int64) no longer validates")
                }
                let wasIn = (row[1] as Int64) == 0
                let isIn = speakers.admits(message)
                if wasIn == isIn { continue }
                moved += 1
                try db.execute(sql: "UPDATE message SET report = ? WHERE origin = ? AND seq = ?",
                               arguments: [isIn ? 0 : 1, originText, message.seq])
                if isIn {
                    try deleteReport(message)
                } else {
                    try insertReport(message, body: message.aboutBody!)
                }
                for ref in message.references { entityDeltas[ref, default: 0] += isIn ? 1 : -1 }
                stale.insert(message.subject.key)
            }
        }
        try db.execute(sql: "DELETE FROM scope")
        for origin in speakers.table.keys.sorted() {
            try db.execute(sql: "INSERT INTO scope (origin, scopes) VALUES (?, ?)",
                           arguments: [origin.rawValue, speakers.table[origin]!.description])
        }
        try db.execute(sql: "UPDATE scope_rules SET unlisted = ?, fingerprint = ? WHERE id = 1",
                       arguments: [speakers.unlisted.rawValue, speakers.fingerprint])
        events.append(.rescoped(messages: moved, subjects: stale.count - before))
    }

    /// Re-folds a subject from the messages it has now, and counts the
    /// difference in its tallies.
    private mutating func refold(_ subjectKey: String) throws {
        // Reports from other origins fold into nothing.
        let bodies = try String.fetchAll(db, sql: """
            SELECT v.body FROM message m JOIN version v ON v.id = m.version WHERE m.subject = ? AND m.report = 0
            """, arguments: [subjectKey])
        var messages: [Message] = []
        for body in bodies {
            guard let message = MessageReader.read(Array(body.utf8), policy: .stored).message else {
                throw StoreError.corrupt("a stored message of \(subjectKey) no longer validates")
            }
            messages.append(message)
        }
        let subject: Subject
        if let first = messages.first {
            subject = first.subject
        } else if let parsed = Subject(key: subjectKey) {
            subject = parsed
        } else {
            throw StoreError.corrupt("unknown subject \(subjectKey)")
        }
        let before = try subjectRows.load(subject)
        let state = SubjectState.fold(subject, messages)
        try subjectRows.save(state, subject: subject, before: before)
        try addTally(state.tally, minus: before.tally)
    }

    /// Inserts a version and returns its id.
    private mutating func insertVersion(hash: Data, envelope: Envelope?, state: String, rejection: Rejection?, body: [UInt8]?, source: String) throws -> Int64 {
        let statement = try Self.prepared(db, &statements.insertVersion, """
            INSERT INTO version (hash, origin, seq, state, code, detail, body, first_seen, source)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        statement.bind(1, blob: hash)
        statement.bind(2, envelope?.origin.rawValue)
        statement.bind(3, envelope?.seq)
        statement.bind(4, state)
        statement.bind(5, rejection?.code.rawValue)
        statement.bind(6, rejection?.detail)
        if let body { statement.bind(7, utf8: body) } else { statement.bindNull(7) }
        statement.bind(8, now)
        statement.bind(9, source)
        try statement.execute()
        return db.lastInsertedRowID
    }

    static func conflictRejection(_ envelope: Envelope, versions: Int) -> Rejection {
        Rejection(.conflict, "\(versions) different valid versions of \(envelope.origin) #\(envelope.seq): all are rejected until an operator decides which is genuine (a broken or forged origin)")
    }

    /// The order in which to reconcile a batch: by (origin, seq), copies
    /// without an envelope first, and otherwise as given (a stable sort).
    ///
    /// The state does not depend on the order of a batch (docs/design.md, "Reconciliation"), and
    /// neither does any copy's outcome: copies that can be duplicates of, or
    /// in conflict with, each other share their envelope and keep their
    /// order. Only the gap notices differ (fewer spurious ones). What the order
    /// buys is locality: a drop arrives in no order, and in (origin, seq)
    /// order the inserts into every table keyed by it touch each B-tree page
    /// once per batch instead of evicting and re-reading it (1.2 GB read for
    /// 100,000 interleaved .jsonl lines before, see docs/performance.md).
    public static func localityOrder(_ envelopes: [Envelope?]) -> [Int] {
        envelopes.indices.sorted { a, b in
            switch (envelopes[a], envelopes[b]) {
            case (nil, nil): return a < b
            case (nil, _): return true
            case (_, nil): return false
            case (let x?, let y?):
                if x.origin != y.origin { return x.origin < y.origin }
                if x.seq != y.seq { return x.seq < y.seq }
                return a < b
            }
        }
    }

    /// SHA-256 over a domain byte and the identity's bytes, so a JSON value
    /// and raw bytes can never collide.
    public static func hash(_ identity: CopyReading.Identity) -> Data {
        var hasher = SHA256()
        switch identity {
        case .value(let bytes):
            hasher.update(data: [UInt8(ascii: "j")])
            hasher.update(data: bytes)
        case .unverified(let bytes):
            hasher.update(data: [UInt8(ascii: "s")])
            hasher.update(data: bytes)
        case .bytes(let bytes):
            hasher.update(data: [UInt8(ascii: "b")])
            hasher.update(data: bytes)
        case .bytesDigest(let digest):
            return Data(digest)
        }
        return Data(hasher.finalize())
    }
}

extension Subject {
    /// Parses `Subject.key` back.
    init?(key: String) {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        func slug(_ index: Int) -> Slug? { index < parts.count ? Slug(parts[index]) : nil }
        switch (parts.first, parts.count) {
        case ("workplace", 2): guard let id = slug(1) else { return nil }; self = .workplace(id)
        case ("council", 2): guard let id = slug(1) else { return nil }; self = .council(id)
        case ("delegate", 2): guard let id = slug(1) else { return nil }; self = .delegate(id)
        case ("demand", 2): guard let id = slug(1) else { return nil }; self = .demand(id)
        case ("action", 2): guard let id = slug(1) else { return nil }; self = .action(id)
        case ("support", 3): guard let d = slug(1), let w = slug(2) else { return nil }; self = .support(demand: d, workplace: w)
        case ("outcome", 3): guard let d = slug(1), let w = slug(2) else { return nil }; self = .outcome(demand: d, workplace: w)
        case ("participation", 3): guard let a = slug(1), let w = slug(2) else { return nil }; self = .participation(action: a, workplace: w)
        default: return nil
        }
    }
}
