import Crypto
import Foundation
import GRDB

/// The state's fingerprint: two nodes agree exactly when their digests match.
///
/// A SHA-256 over a canonical serialisation of everything the fold derives
/// from the distinct valid messages (and the keyring's scopes): the valid
/// versions (applied, and both sides of every conflict), the applied
/// messages with their order keys, every subject table, the entities named,
/// the reports from other origins, and the Summary's tallies. Left out is what depends on how and when
/// copies arrived rather than on which messages they carried: first-seen
/// times, sources, rowids, the spool's ledger, duplicates, and copies
/// refused as invalid (junk never travels between nodes, so one node's
/// junk must not make two nodes disagree). Gaps follow from the valid
/// versions' (origin, seq), so they are covered without `arrival`, which
/// also counts invalid copies.
///
/// The serialisation: a header line naming its version, then per table a
/// line `t NAME`, then each row in a fixed order as its values, each
/// self-delimiting (`n` NULL; `i` decimal `;`; `s` UTF-8 byte count `:`
/// bytes; `b` byte count `:` bytes), and a newline. No two different
/// states serialise alike, whatever their strings hold. A new schema that
/// adds a derived table adds it to `foldTables` and bumps the header: digests compare
/// nodes that run the same release.
extension Store {
    /// The header of the serialisation; part of what is hashed.
    static let stateDigestHeader = "strikecd-state-digest 1\n"

    /// Tables and the statements that read them in canonical order.
    static let stateDigestTables: [(name: String, sql: String)] = [
        // A version is its identity hash, never its arrival-dependent rowid.
        ("version", "SELECT hex(hash), origin, seq, state, body FROM version WHERE state <> 'invalid' ORDER BY origin, seq, hash"),
        ("message", """
            SELECT m.origin, m.seq, m.k, m.type, m.subject, hex(v.hash), m.report FROM message m JOIN version v ON v.id = m.version
            ORDER BY m.origin, m.seq
            """),
        // Reports from other origins (scopes): applied, folded into nothing.
        ("report", "SELECT body, k, origin, seq, type, subject FROM report ORDER BY body, k"),
        ("entity", "SELECT kind, id, messages FROM entity ORDER BY kind, id"),
        // Not duplicates (a count of copies) nor rejected (it counts junk).
        ("tally", "SELECT name, value FROM tally WHERE value <> 0 AND name NOT IN ('duplicates', 'rejected') ORDER BY name"),
    ] + foldTables

    /// The digest of the state, as 64 lowercase hex digits. Reads every
    /// valid version once: linear in the store, streamed (no copy of the
    /// state is held in memory).
    public static var stateDigestQuery: StoreQuery<StateDigest> {
        StoreQuery { db in try Store.stateDigest(db) }
    }

    public func stateDigest() async throws(QueryError) -> StateDigest {
        try await read(Store.stateDigestQuery)
    }

    static func stateDigest(_ db: Database) throws -> StateDigest {
        var hasher = SHA256()
        hasher.update(data: Array(stateDigestHeader.utf8))
        var line: [UInt8] = []
        for (name, sql) in stateDigestTables {
            hasher.update(data: Array("t \(name)\n".utf8))
            let cursor = try Row.fetchCursor(db, sql: sql)
            while let row = try cursor.next() {
                line.removeAll(keepingCapacity: true)
                for value in row.databaseValues { Self.serialise(value, into: &line) }
                line.append(UInt8(ascii: "\n"))
                hasher.update(data: line)
            }
        }
        let applied = try Int64.fetchOne(db, sql: "SELECT count(*) FROM message") ?? 0
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return StateDigest(sha256: digest, applied: applied)
    }

    private static func serialise(_ value: DatabaseValue, into line: inout [UInt8]) {
        switch value.storage {
        case .null:
            line.append(UInt8(ascii: "n"))
        case .int64(let n):
            line.append(UInt8(ascii: "i"))
            line.append(contentsOf: Array(String(n).utf8))
            line.append(UInt8(ascii: ";"))
        case .double(let d):
            // No derived column is REAL; should one ever be, its exact bits count.
            line.append(UInt8(ascii: "r"))
            line.append(contentsOf: Array(String(d.bitPattern).utf8))
            line.append(UInt8(ascii: ";"))
        case .string(let s):
            let bytes = Array(s.utf8)
            line.append(UInt8(ascii: "s"))
            line.append(contentsOf: Array(String(bytes.count).utf8))
            line.append(UInt8(ascii: ":"))
            line.append(contentsOf: bytes)
        case .blob(let data):
            line.append(UInt8(ascii: "b"))
            line.append(contentsOf: Array(String(data.count).utf8))
            line.append(UInt8(ascii: ":"))
            line.append(contentsOf: data)
        }
    }
}

/// What `Query.StateDigest()` returns.
public struct StateDigest: Sendable, Equatable {
    /// SHA-256 of the canonical state, 64 lowercase hex digits.
    public let sha256: String
    /// Applied messages, for people comparing two nodes at a glance.
    public let applied: Int64
}
