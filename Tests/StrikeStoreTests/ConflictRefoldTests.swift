import GRDB
import StrikeCore
@testable import StrikeStore
import TestSupport
import Testing

/// A flood of conflicting versions about one subject re-folds it once per
/// transaction, not once per conflict, and to the same state.
@Suite struct ConflictRefoldTests {
    static func report(_ seq: Int64, participants: Int64) -> CopyInput {
        CopyInput(reading: reading(message("mtz", seq, "strike.reported", [
            "workplace": "mtz", "status": "strike", "participants": .number(JSONNumber(participants)),
        ]), now: queryNow), source: "report-\(seq)")
    }

    @Test func aFloodOfConflictsRefoldsTheSubjectOnce() throws {
        let count: Int64 = 400
        let directory = TemporaryDirectory()
        let store = try Store(path: directory.path + "/state.sqlite")
        _ = try store.ingest((1...count).map { Self.report($0, participants: $0) }, now: queryNow)

        // The later half gets rival versions: all of it leaves the state.
        let rivals = (count / 2 + 1...count).map { Self.report($0, participants: $0 + 1_000_000) }
        nonisolated(unsafe) var refolds = 0
        let (outcomes, events) = try store.write { db in
            db.trace(options: .statement) { event in
                if case .statement(let statement) = event, statement.sql.contains("WHERE m.subject = ?") { refolds += 1 }
            }
            defer { db.trace(options: [], nil) }
            return try Store.reconcile(rivals, in: db, now: queryNow, speakers: .everyone)
        }
        #expect(outcomes.allSatisfy { $0.rejection?.code == .conflict })
        #expect(events.count == rivals.count)
        #expect(refolds == 1, "re-folded \(refolds) times")

        // The same state as the earlier half alone: the greatest remaining report counts.
        let alone = try Store(path: directory.path + "/alone.sqlite")
        _ = try alone.ingest((1...count / 2).map { Self.report($0, participants: $0) }, now: queryNow)
        let (summary, expected) = (try store.summary(), try alone.summary())
        #expect(summary.participants == expected.participants && summary.participants == Int(count / 2))
        #expect(summary.striking == expected.striking && summary.workplaces == expected.workplaces)
        #expect(summary.messages.applied == Int(count / 2) && summary.messages.rejected == Int(count))
    }
}
