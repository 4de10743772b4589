// libFuzzer target: the reconciler fed sequences of messages built from the
// input, with the numbers at their edges (seq 1 and 2^63 - 1, counts at 0, at
// the limit, one above, 2^63 - 1 and below zero, clocks and skews at either end
// of 64 bits), cut into batches, with conflicts of several versions and an
// operator forgetting rejected versions between batches. Nothing may trap, and
// after every input:
// - the running totals equal a recount from the tables and, independently, a
//   fold from scratch of the applied messages (each subject's messages folded
//   by the pure core, tallies summed with checked arithmetic);
// - every total is an SQLite integer (never a REAL);
// - each entity's count of naming messages equals a recount;
// - without forgets, the same copies in the reverse order, in one batch, give
//   the same dump (the contract: order and batches do not matter).
import Foundation
import GRDB
import CFuzzerDriver
import StrikeCore
import StrikeStore

/// A scratch directory, in memory where the system has one: the store
/// commits with fsync, which costs nothing there.
let directory: String = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()
    let path = base + "strikecd-fuzz-reconcile-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

func removeDirectory() { try? FileManager.default.removeItem(atPath: directory) }

/// Two stores reused for every input (emptied first): creating one costs
/// its migrations.
let stores: [Store] = {
    atexit { removeDirectory() }
    return [try! Store(path: directory + "/a.sqlite"), try! Store(path: directory + "/b.sqlite")]
}()
let now: Int64 = 1_700_000_000

/// SwiftPM points `main` at MODULE_main: hand over to libFuzzer.
@_cdecl("FuzzReconcile_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzz(data!, size) }
}

// MARK: - Decoding the input

let seqs: [Int64] = [1, 2, 3, 4, 5, 6, 7, 1 << 32, 1 << 62, .max - 2, .max - 1, .max, 0, -1, .min]
let counts: [Int64] = [0, 1, 2, 7, 1000, ValidationPolicy.maximumCount - 1, ValidationPolicy.maximumCount,
                       ValidationPolicy.maximumCount + 1, .max - 1, .max, -1, .min]
let skews: [Int64] = [900, 0, .max, .min, -1, 3600]
let times = ["2020-08-24T09:00:00Z", "2020-08-24T12:00:00+03:00", "2020-08-24T09:00:00.5Z", "2020-08-25T00:00:00Z",
             "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2023-11-14T22:28:20Z", "2023-11-14T22:43:21Z"]
let origins = ["a", "b", "c"]
let slugs = ["w", "x", "y"]

/// Reads the input a byte at a time; zeros once it runs out.
struct Bytes {
    let data: UnsafeBufferPointer<UInt8>
    var index = 0
    var done: Bool { index >= data.count }
    mutating func next() -> Int {
        defer { index += 1 }
        return index < data.count ? Int(data[index]) : 0
    }
    mutating func pick<T>(_ list: [T]) -> T { list[next() % list.count] }
}

enum Step {
    case copy([UInt8])
    /// Commit what came before in one transaction.
    case commit
    /// An operator forgets the n-th rejected version (by hash).
    case forget(Int)
}

func number(_ value: Int64) -> JSONValue { .number(JSONNumber(value)) }

/// One message of any type, its numbers and names from the input.
func message(_ input: inout Bytes) -> [UInt8] {
    let origin = input.pick(origins)
    let seq = input.pick(seqs)
    let sentAt = input.pick(times)
    let kind = input.next()
    let slug = JSONValue.string(input.pick(slugs)), other = JSONValue.string(input.pick(slugs))
    let c1 = number(input.pick(counts)), c2 = number(input.pick(counts)), c3 = number(input.pick(counts))
    let flags = input.next()
    func maybe(_ bit: Int, _ value: JSONValue) -> JSONValue? { flags & (1 << bit) != 0 ? value : nil }
    var data: [(key: String, value: JSONValue)]
    let type: String
    switch kind % 13 {
    case 0:
        type = "workplace.reported"
        data = [("workplace", slug)]
        if let v = maybe(0, c1) { data.append(("headcount", v)) }
        if let v = maybe(1, .string("Name \(flags % 3)")) { data.append(("name", v)) }
    case 1, 2:
        type = "strike.reported"
        data = [("workplace", slug), ("status", .string(["strike", "working", "partial", "lockout"][flags % 4]))]
        if let v = maybe(2, c1) { data.append(("participants", v)) }
    case 3:
        type = "council.formed"
        data = [("council", slug), ("level", flags & 1 == 0 ? "local" : "regional")]
    case 4:
        type = "delegate.elected"
        data = [("delegate", slug), ("workplace", other), ("council", "c"),
                ("votes", .record(["for": c1, "against": c2, "abstain": c3]))]
        if let v = maybe(3, number(input.pick(counts))) { data.append(("quorum", v)) }
    case 5:
        type = "delegate.recalled"
        data = [("delegate", slug), ("workplace", other), ("votes", .record(["for": c1, "against": c2]))]
    case 6:
        type = "delegate.status"
        data = [("delegate", slug), ("status", .string(["detained", "released", "missing", "resigned", "active"][flags % 5]))]
    case 7:
        type = "demand.proposed"
        data = [("demand", slug), ("text", .string("Demand \(flags % 2)")), ("category", flags & 4 == 0 ? "economic" : "democratic")]
    case 8:
        type = "demand.adopted"
        data = [("demand", slug), ("workplace", other)]
        if let v = maybe(0, .record(["for": c1, "against": c2, "abstain": c3])) { data.append(("votes", v)) }
    case 9:
        type = "demand.outcome"
        data = [("demand", slug), ("workplace", other), ("outcome", flags & 1 == 0 ? "won" : "rejected")]
    case 10:
        type = "action.called"
        data = [("action", slug), ("kind", "general-strike"), ("starts_at", .string(input.pick(times)))]
        if let v = maybe(1, c1) { data.append(("hours", v)) }
        if let v = maybe(2, .array([other])) { data.append(("demands", v)) }
    case 11:
        type = "action.joined"
        data = [("action", slug), ("workplace", other)]
        if let v = maybe(3, c1) { data.append(("participants", v)) }
    default:
        // A body that is not valid: it still counts as arrived for gaps.
        type = "strike.reported"
        data = [("workplace", slug), ("status", "bogus")]
    }
    let value: JSONValue = .object(JSONObject([
        ("v", 1), ("origin", .string(origin)), ("seq", number(seq)), ("sent_at", .string(sentAt)),
        ("type", .string(type)), ("data", .object(JSONObject(data))),
    ]))
    return JSONWriter.bytes(value, style: .compact)
}

func decodeSteps(_ input: inout Bytes) -> [Step] {
    var steps: [Step] = []
    while !input.done, steps.count < 96 {
        let op = input.next()
        switch op % 16 {
        case 0, 1: steps.append(.commit)
        case 2: steps.append(.forget(input.next()))
        case 3:
            // The last copy again: a duplicate.
            if case .copy(let bytes)? = steps.last(where: { if case .copy = $0 { true } else { false } }) { steps.append(.copy(bytes)) }
        default: steps.append(.copy(message(&input)))
        }
    }
    return steps
}

// MARK: - The target

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var input = Bytes(data: UnsafeBufferPointer(start: data, count: size))
    let policy = ValidationPolicy(now: input.pick([now, .max, .min, 0]), maximumFutureSkew: input.pick(skews))
    let steps = decodeSteps(&input)
    for store in stores { empty(store) }
    let store = stores[0]
    var batch: [CopyInput] = []
    var all: [CopyInput] = []
    var forgot = false
    func commit() {
        guard !batch.isEmpty else { return }
        expect(try store.ingest(batch, now: now))
        all += batch
        batch = []
    }
    for step in steps {
        switch step {
        case .copy(let bytes):
            batch.append(CopyInput(reading: MessageReader.read(bytes, policy: policy), source: "fuzz"))
        case .commit:
            commit()
        case .forget(let n):
            commit()
            let hashes = expect(try store.read { db in try Data.fetchAll(db, sql: "SELECT hash FROM version WHERE state <> 'applied' ORDER BY hash") })
            guard !hashes.isEmpty else { continue }
            forgot = true
            _ = expect(try store.write { db in
                var reconciler = Reconciler(db, now: now)
                let found = try reconciler.forgetRejected(hash: hashes[n % hashes.count])
                try reconciler.finish()
                return found
            })
        }
    }
    commit()
    checkTotals(store)
    if !forgot, !all.isEmpty {
        let other = stores[1]
        expect(try other.ingest(all.reversed(), now: now))
        checkTotals(other)
        let (dumpA, dumpB) = (expect(try store.dump()), expect(try other.dump()))
        if dumpA != dumpB { fatalError("the same copies in the reverse order gave another state:\n\(dumpA)\n---\n\(dumpB)") }
    }
    return 0
}

/// An error from the store is a broken invariant here: nothing this target
/// feeds it may fail a batch (the counts' limit keeps totals within 64 bits).
@discardableResult
func expect<T>(_ body: @autoclosure () throws -> T) -> T {
    do {
        return try body()
    } catch {
        fatalError("the store failed: \(error)")
    }
}

func empty(_ store: Store) {
    expect(try store.write { db in
        for table in ["message", "version", "entity", "arrival", "tally", "workplace", "council", "mandate", "delegate", "demand",
                      "support", "outcome", "action", "participation", "report"] {
            try db.execute(sql: "DELETE FROM \(table)")
        }
    })
}

/// The running totals against a recount from the tables and a fold from
/// scratch of the applied messages.
func checkTotals(_ store: Store) {
    let summary = expect(try store.summary())
    let recounted = expect(try store.recomputedSummary())
    if summary != recounted { fatalError("running totals \(summary) differ from a recount of the tables \(recounted)") }
    let reals = expect(try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM tally WHERE typeof(value) <> 'integer'") ?? 0 })
    if reals != 0 { fatalError("a total is not an integer") }
    if expect(try store.entityCounts(recomputed: false)) != expect(try store.entityCounts(recomputed: true)) {
        fatalError("entity counts drifted")
    }
    let bodies = expect(try store.read { db in try String.fetchAll(db, sql: "SELECT v.body FROM message m JOIN version v ON v.id = m.version") })
    var bySubject: [String: (Subject, [Message])] = [:]
    for body in bodies {
        guard let message = MessageReader.read(Array(body.utf8), policy: .stored).message else { fatalError("an applied message no longer validates") }
        bySubject[message.subject.key, default: (message.subject, [])].1.append(message)
    }
    var tally = Tally()
    for (subject, messages) in bySubject.values {
        guard let sum = tally.adding(SubjectState.fold(subject, messages).tally, minus: Tally()) else { fatalError("a total overflows") }
        tally = sum
    }
    let folded = [tally.workplaces, tally.striking, tally.participants, tally.active, tally.detained, tally.missing,
                  tally.recalled, tally.resigned, tally.economic, tally.democratic, Int64(bodies.count)]
    let stored = [summary.workplaces, summary.striking, summary.participants, summary.delegates.active, summary.delegates.detained,
                  summary.delegates.missing, summary.delegates.recalled, summary.delegates.resigned, summary.demands.economic,
                  summary.demands.democratic, summary.messages.applied].map(Int64.init)
    if folded != stored { fatalError("running totals \(stored) differ from a fold of the applied messages \(folded)") }
}
