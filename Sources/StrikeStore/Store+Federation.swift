import Foundation
import GRDB
import StrikeCore

// Federation's records (docs/design.md, "Federation"): each peer's ledger
// (how far through the versions, in arrival order, its batches were
// written, and what it last said it holds); the ranges a peer said it
// cannot supply; and which inbox files were taken.
//
// The copies to send are the valid versions themselves (`version`, whose
// rowids grow in arrival order and whose `source` names the spool file the
// first copy came in, hence the peer): ingestion writes nothing more for
// federation. A first design queued each accepted copy's raw bytes in the
// committing transaction; it cost about a fifth more CPU per ingested copy
// (docs/performance.md), against the target of a tenth. A peer's mark
// moves only after its batch file is durable, so a crash between the two
// re-sends rather than loses, and nothing is sent twice otherwise.

extension Schema {
    static func v5Federation(_ db: Database) throws {
        try db.execute(sql: """
            -- One row per peer ever configured.
            CREATE TABLE federation_peer (
                name TEXT PRIMARY KEY NOT NULL,
                -- Versions (by id, in arrival order) up to here are in its
                -- batches, or were not for it.
                sent_upto INTEGER NOT NULL DEFAULT 0 CHECK (sent_upto >= 0),
                last_sent INTEGER,
                last_heard INTEGER,
                last_report INTEGER,
                -- Its last `have`: the ranges it holds, as JSON.
                heard_have TEXT,
                copies_sent INTEGER NOT NULL DEFAULT 0,
                copies_resent INTEGER NOT NULL DEFAULT 0
            ) WITHOUT ROWID;

            -- Ranges a peer said it cannot supply: not asked of it again
            -- until its `have` shows it holds some of them.
            CREATE TABLE federation_cannot (
                peer TEXT NOT NULL,
                origin TEXT NOT NULL,
                first INTEGER NOT NULL CHECK (first >= 1),
                last INTEGER NOT NULL CHECK (last >= first),
                PRIMARY KEY (peer, origin, first)
            ) WITHOUT ROWID;

            -- Files of inboxes already taken into the spool (inboxes are
            -- never deleted from): by name, with the size, modification time
            -- and digest of what was taken.
            CREATE TABLE inbox_file (
                inbox TEXT NOT NULL,
                name TEXT NOT NULL,
                size INTEGER NOT NULL,
                mtime INTEGER NOT NULL,
                sha256 TEXT NOT NULL,
                -- The copy's name in the spool's tmp/ while it is being handed
                -- to incoming/; NULL once it is there.
                dropping TEXT,
                PRIMARY KEY (inbox, name)
            ) WITHOUT ROWID;
            """)
    }
}

/// A valid version to send: its canonical JSON with its `sig`.
public struct QueuedCopy: Sendable {
    public let id: Int64
    public let origin: String
    public let seq: Int64
    /// Where its first copy came from: a spool file name, with `:LINE`.
    public let source: String
    public let bytes: [UInt8]
}

/// A peer's record, for Query.Peers.
public struct PeerRecord: Sendable, Equatable {
    public var name: String
    public var lastSent: Int64?
    public var lastHeard: Int64?
    public var lastReport: Int64?
    /// Queued copies beyond its mark (before its filter).
    public var waiting: Int64
    public var copiesSent: Int64
    public var copiesResent: Int64
    /// What this node holds (applied or in conflict) that the peer's last
    /// `have` did not list, per origin; nil when it never reported.
    public var lacks: SeqRanges?
    /// What it said it cannot supply.
    public var cannot: SeqRanges
}

extension Store {
    /// Makes sure each configured peer has its row.
    public func addPeers(_ names: [String]) throws(StoreError) {
        do {
            try write { db in
                for name in names {
                    try db.execute(sql: "INSERT OR IGNORE INTO federation_peer (name) VALUES (?)", arguments: [name])
                }
                // A peer no longer configured: its ledger and what it said go.
                guard !names.isEmpty else { return }
                let marks = Array(repeating: "?", count: names.count).joined(separator: ",")
                try db.execute(sql: "DELETE FROM federation_peer WHERE name NOT IN (\(marks))", arguments: StatementArguments(names))
                try db.execute(sql: "DELETE FROM federation_cannot WHERE peer NOT IN (\(marks))", arguments: StatementArguments(names))
            }
        } catch {
            throw StoreError.from(error)
        }
    }

    /// Up to `limit` valid versions after `peer`'s mark, in arrival order
    /// (both sides of a conflict are valid versions), and the id of the
    /// last version looked at (invalid ones are passed over).
    public func queued(for peer: String, limit: Int) throws(StoreError) -> (copies: [QueuedCopy], last: Int64?) {
        try read { db in
            let mark = try Int64.fetchOne(db, sql: "SELECT sent_upto FROM federation_peer WHERE name = ?", arguments: [peer]) ?? 0
            let rows = try Row.fetchAll(db, sql: "SELECT id, origin, seq, source, body, state FROM version WHERE id > ? ORDER BY id LIMIT ?",
                                        arguments: [mark, limit])
            let copies = rows.compactMap { row -> QueuedCopy? in
                guard (row[5] as String) != "invalid", let body: String = row[4], let origin: String = row[1] else { return nil }
                return QueuedCopy(id: row[0], origin: origin, seq: row[2], source: row[3], bytes: Array(body.utf8))
            }
            return (copies, rows.last.map { $0[0] as Int64 })
        }
    }

    /// Records that `peer`'s batches hold the versions up to `upto` (its
    /// batch file is durable).
    public func markSent(peer: String, upto: Int64, copies: Int, resent: Int = 0, now: Int64) throws(StoreError) {
        do {
            try write { db in
                try db.execute(sql: """
                    UPDATE federation_peer SET sent_upto = max(sent_upto, ?), last_sent = ?, copies_sent = copies_sent + ?,
                        copies_resent = copies_resent + ? WHERE name = ?
                    """, arguments: [upto, now, copies, resent, peer])
            }
        } catch {
            throw StoreError.from(error)
        }
    }

    /// The seqs this node holds per origin (a valid version: applied or in
    /// conflict), as ranges.
    public func heldRanges(origins: Set<String>? = nil) throws(StoreError) -> SeqRanges {
        try read { db in try Self.heldRanges(db) }.filter { origins?.contains($0.key) ?? true }
    }

    static func heldRanges(_ db: Database) throws -> SeqRanges {
        var result: SeqRanges = [:]
        // Islands of consecutive seqs: seq minus its rank is constant along one.
        let rows = try Row.fetchCursor(db, sql: """
            SELECT origin, min(seq), max(seq) FROM (
                SELECT origin, seq, seq - row_number() OVER (PARTITION BY origin ORDER BY seq) AS island FROM (
                    SELECT origin, seq FROM message
                    UNION SELECT origin, seq FROM version WHERE state = 'conflict'))
            GROUP BY origin, island ORDER BY origin, 2
            """)
        while let row = try rows.next() {
            result[row[0], default: []].append((row[1] as Int64)...(row[2] as Int64))
        }
        return result
    }

    /// The copies to re-send for `ranges`: the stored version of each held
    /// (origin, seq) in them, every side of a conflict. The store keeps a
    /// valid version's canonical JSON with its `sig` (not the bytes it came
    /// in): the same message, the same identity, and a signature that still
    /// verifies, since it covers the canonical form.
    public func storedCopies(_ ranges: SeqRanges, limit: Int) throws(StoreError) -> [(origin: String, seq: Int64, bytes: [UInt8])] {
        try read { db in
            var result: [(origin: String, seq: Int64, bytes: [UInt8])] = []
            for origin in ranges.keys.sorted() {
                for range in ranges[origin]! {
                    let rows = try Row.fetchCursor(db, sql: """
                        SELECT seq, body FROM version WHERE origin = ? AND seq BETWEEN ? AND ? AND state <> 'invalid' ORDER BY seq, id LIMIT ?
                        """, arguments: [origin, range.lowerBound, range.upperBound, limit - result.count + 1])
                    while let row = try rows.next() {
                        guard let body: String = row[1] else { continue }
                        result.append((origin, row[0], Array(body.utf8)))
                        if result.count >= limit { return result }
                    }
                }
            }
            return result
        }
    }

    /// A peer's `have` heard: remembered for Peers(), and the ranges it said
    /// it cannot supply that it now holds are forgotten (new information).
    public func heardHave(peer: String, ranges: SeqRanges, now: Int64) throws(StoreError) {
        do {
            try write { db in
                let json = String(decoding: JSONWriter.bytes(ControlLine.json(ranges)), as: UTF8.self)
                try db.execute(sql: "UPDATE federation_peer SET heard_have = ?, last_heard = ? WHERE name = ?", arguments: [json, now, peer])
                for (origin, held) in ranges {
                    for row in try Row.fetchAll(db, sql: "SELECT first, last FROM federation_cannot WHERE peer = ? AND origin = ?", arguments: [peer, origin]) {
                        let range = (row[0] as Int64)...(row[1] as Int64)
                        if !SeqRangeSet.intersecting([range], held).isEmpty {
                            try db.execute(sql: "DELETE FROM federation_cannot WHERE peer = ? AND origin = ? AND first = ?",
                                           arguments: [peer, origin, range.lowerBound])
                        }
                    }
                }
            }
        } catch {
            throw StoreError.from(error)
        }
    }

    /// Something arrived from `peer` (a batch it wrote, a control line).
    public func heardFrom(peer: String, now: Int64) throws(StoreError) {
        do {
            try write { db in try db.execute(sql: "UPDATE federation_peer SET last_heard = ? WHERE name = ?", arguments: [now, peer]) }
        } catch {
            throw StoreError.from(error)
        }
    }

    /// A peer's `cannot`: not asked again for these ranges.
    public func heardCannot(peer: String, ranges: SeqRanges, now: Int64) throws(StoreError) {
        do {
            try write { db in
                try db.execute(sql: "UPDATE federation_peer SET last_heard = ? WHERE name = ?", arguments: [now, peer])
                for (origin, list) in ranges {
                    for range in list {
                        try db.execute(sql: "INSERT OR REPLACE INTO federation_cannot (peer, origin, first, last) VALUES (?, ?, ?, ?)",
                                       arguments: [peer, origin, range.lowerBound, range.upperBound])
                    }
                }
            }
        } catch {
            throw StoreError.from(error)
        }
    }

    /// What `peer` said it cannot supply.
    public func cannot(peer: String) throws(StoreError) -> SeqRanges {
        try read { db in try Self.cannot(db, peer: peer) }
    }

    static func cannot(_ db: Database, peer: String) throws -> SeqRanges {
        var result: SeqRanges = [:]
        for row in try Row.fetchAll(db, sql: "SELECT origin, first, last FROM federation_cannot WHERE peer = ? ORDER BY origin, first", arguments: [peer]) {
            result[row[0], default: []].append((row[1] as Int64)...(row[2] as Int64))
        }
        return result.mapValues(SeqRangeSet.normalised)
    }

    public func reportSent(peer: String, now: Int64) throws(StoreError) {
        do {
            try write { db in try db.execute(sql: "UPDATE federation_peer SET last_report = ? WHERE name = ?", arguments: [now, peer]) }
        } catch {
            throw StoreError.from(error)
        }
    }

    /// Each peer's record, by name: the peers configured at the daemon's
    /// start (`addPeers` forgets the others).
    public static var peersQuery: StoreQuery<[PeerRecord]> {
        StoreQuery { db in
            let held = try Store.heldRanges(db)
            var records: [PeerRecord] = []
            for name in try String.fetchAll(db, sql: "SELECT name FROM federation_peer ORDER BY name") {
                guard let row = try Row.fetchOne(db, sql: """
                    SELECT last_sent, last_heard, last_report, heard_have, copies_sent, copies_resent,
                           (SELECT count(*) FROM version WHERE id > sent_upto AND state <> 'invalid') FROM federation_peer WHERE name = ?
                    """, arguments: [name]) else {
                    records.append(PeerRecord(name: name, waiting: 0, copiesSent: 0, copiesResent: 0, cannot: [:]))
                    continue
                }
                var lacks: SeqRanges?
                if let text: String = row[3], let have = ControlLine.ranges(try? JSONReader.read(Array(text.utf8))) {
                    var missing: SeqRanges = [:]
                    for (origin, ranges) in held {
                        let gap = SeqRangeSet.subtracting(ranges, have[origin] ?? [])
                        if !gap.isEmpty { missing[origin] = gap }
                    }
                    lacks = missing
                }
                records.append(PeerRecord(
                    name: name, lastSent: row[0], lastHeard: row[1], lastReport: row[2], waiting: row[6],
                    copiesSent: row[4], copiesResent: row[5], lacks: lacks, cannot: try Store.cannot(db, peer: name)))
            }
            return records
        }
    }

    // MARK: - Inboxes

    /// What was taken of an inbox's file: its size, mtime, digest, and the
    /// tmp/ name of a hand-off not finished.
    public func inboxFiles(_ inbox: String) throws(StoreError) -> [String: (size: Int64, mtime: Int64, sha256: String, dropping: String?)] {
        try read { db in
            var result: [String: (size: Int64, mtime: Int64, sha256: String, dropping: String?)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, size, mtime, sha256, dropping FROM inbox_file WHERE inbox = ?", arguments: [inbox]) {
                result[row[0]] = (row[1], row[2], row[3], row[4])
            }
            return result
        }
    }

    public func recordInboxFile(inbox: String, name: String, size: Int64, mtime: Int64, sha256: String, dropping: String?) throws(StoreError) {
        do {
            try write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO inbox_file (inbox, name, size, mtime, sha256, dropping) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [inbox, name, size, mtime, sha256, dropping])
            }
        } catch {
            throw StoreError.from(error)
        }
    }
}
