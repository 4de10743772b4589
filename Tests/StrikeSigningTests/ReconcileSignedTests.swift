import Foundation
import StrikeCore
import StrikeSigning
import StrikeStore
import TestSupport
import Testing

// The reconciliation contract with signatures: what is applied depends only on
// the genuine messages, whatever forged, stripped or re-signed copies arrive,
// in any order and any batches.

struct SignedWorld {
    /// Two keys per origin of the corpus (a rotation in progress).
    let keys: [String: [SigningKey]]
    let keyring: Keyring
    let stranger = SigningKey.generate()

    init() throws {
        var keys: [String: [SigningKey]] = [:]
        for origin in ["mtz", "bmz", "grodno-azot", "belaz"] {
            keys[origin] = [SigningKey.generate(), SigningKey.generate()]
        }
        self.keys = keys
        self.keyring = try Keyring(directory: "test", keys: Dictionary(uniqueKeysWithValues: keys.map { (Slug($0.key)!, $0.value.map(\.publicKey)) }))
    }

    func policy(_ signaturePolicy: SignaturePolicy) -> ValidationPolicy {
        ValidationPolicy(now: 1_700_000_000, signatures: SignatureRules(policy: signaturePolicy, verifier: keyring))
    }

    /// The copy signed by one of its origin's keys; unchanged when it is not
    /// an object with a known origin (it is rejected for what it is anyway).
    func sign(_ bytes: [UInt8], rng: inout SplitMix) -> [UInt8] {
        guard case .object(let object)? = try? JSONReader.read(bytes), case .string(let origin)? = object["origin"],
              let choices = keys[origin] else { return bytes }
        return JSONWriter.bytes(.object(choices.randomElement(using: &rng)!.sign(object)), style: .compact)
    }

    /// A forgery of the copy: another report under the same (origin, seq),
    /// signed by a key that is not the origin's.
    func forge(_ bytes: [UInt8], rng: inout SplitMix) -> [UInt8]? {
        guard case .object(let object)? = try? JSONReader.read(bytes), case .string(let origin)? = object["origin"],
              case .number(let seq)? = object["seq"], let number = seq.int64 else { return nil }
        let other: JSONValue = .record([
            "v": 1, "origin": .string(origin), "seq": .number(JSONNumber(number)), "sent_at": "2020-08-24T23:59:00Z",
            "type": "delegate.status", "data": .record(["delegate": "rook", "status": "released"]),
        ])
        return JSONWriter.bytes(.object(stranger.sign(other.objectValue!)), style: .compact)
    }
}

func ingest(_ copies: [[UInt8]], policy: ValidationPolicy, rng: inout SplitMix) throws -> Summary {
    let directory = TemporaryDirectory("strikecd-signed")
    let store = try Store(path: directory.path + "/state.sqlite")
    var index = 0
    while index < copies.count {
        let size = Int.random(in: 1...max(1, copies.count / 4), using: &rng)
        let batch = copies[index..<min(copies.count, index + size)].enumerated().map { offset, bytes in
            CopyInput(reading: MessageReader.read(bytes, policy: policy), source: "copy-\(index + offset)")
        }
        _ = try store.ingest(batch, now: 1_700_000_000)
        index += size
    }
    return try store.summary()
}

/// The state part of a Summary (counters aside).
func state(_ summary: Summary) -> Summary {
    var state = summary
    state.messages.duplicates = 0
    state.messages.rejected = 0
    return state
}

@Suite struct ReconcileSignedTests {
    /// A forged copy delivered before the genuine one does not make the
    /// genuine one its "duplicate"; after it, it does not conflict with it.
    @Test(arguments: [false, true]) func forgeryFirstOrLast(forgeryFirst: Bool) throws {
        let world = try SignedWorld()
        var rng = SplitMix(seed: 7)
        let report = #"{"v":1,"origin":"mtz","seq":8,"sent_at":"2020-08-24T09:30:00+03:00","type":"strike.reported","data":{"workplace":"mtz","status":"strike","participants":300}}"#
        let genuine = world.sign(Array(report.utf8), rng: &rng)
        guard case .object(let object)? = try? JSONReader.read(genuine) else { Issue.record("no object"); return }
        // The same content with its signature stripped, and with a stranger's.
        let stripped = JSONWriter.bytes(.object(JSONObject(object.members.filter { $0.key != "sig" })), style: .compact)
        let strangers = JSONWriter.bytes(.object(world.stranger.sign(object)), style: .compact)
        let forged = try #require(world.forge(genuine, rng: &rng))
        let noise = [stripped, strangers, forged]
        let copies = forgeryFirst ? noise + [genuine] : [genuine] + noise
        let summary = try ingest(copies, policy: world.policy(.required), rng: &rng)
        #expect(summary.messages.applied == 1)
        // The stripped copy is the genuine message: a duplicate, before or
        // after it; the stranger's and the forged copy stay rejected.
        #expect(summary.messages.rejected == 2)
        #expect(summary.messages.duplicates == 1)
        #expect(summary.striking == 1)
        #expect(summary.participants == 300)
    }

    /// A forged copy does not count as arrived: it neither hides a gap nor
    /// announces one.
    @Test func forgeriesDoNotMoveGaps() throws {
        let world = try SignedWorld()
        var rng = SplitMix(seed: 3)
        let directory = TemporaryDirectory("strikecd-signed")
        let store = try Store(path: directory.path + "/state.sqlite")
        func message(_ seq: Int) -> [UInt8] {
            Array(#"{"v":1,"origin":"mtz","seq":\#(seq),"sent_at":"2020-08-24T09:30:00Z","type":"strike.reported","data":{"workplace":"mtz","status":"strike"}}"#.utf8)
        }
        let copies = [world.sign(message(1), rng: &rng), message(2), world.forge(message(3), rng: &rng)!,
                      world.forge(message(1_000_000_000), rng: &rng)!, world.sign(message(4), rng: &rng)]
        let policy = world.policy(.required)
        let result = try store.ingest(copies.map { CopyInput(reading: MessageReader.read($0, policy: policy), source: "t") }, now: 1_700_000_000)
        #expect(result.events == [.gap(origin: Slug("mtz")!, from: 2, to: 3)], "\(result.events)")
        #expect(result.outcomes.filter { $0.rejection != nil }.count == 3)
    }

    /// Whatever its body, a copy its origin did not sign (unsigned, signed
    /// by a stranger, or of an origin the keyring does not know) does not
    /// count as arrived: broken bodies can neither hide a gap nor announce
    /// one, nor leave 2^63 - 1 as an origin's highest seq. A broken copy its
    /// origin did sign does count.
    @Test func forgeriesWithBrokenBodiesDoNotMoveGaps() async throws {
        let world = try SignedWorld()
        var rng = SplitMix(seed: 5)
        let directory = TemporaryDirectory("strikecd-signed")
        let store = try Store(path: directory.path + "/state.sqlite")
        func message(_ origin: String, _ seq: Int64, status: String = "strike") -> [UInt8] {
            Array(#"{"v":1,"origin":"\#(origin)","seq":\#(seq),"sent_at":"2020-08-24T09:30:00Z","type":"strike.reported","data":{"workplace":"mtz","status":"\#(status)"}}"#.utf8)
        }
        let strangers = { (bytes: [UInt8]) in
            JSONWriter.bytes(.object(world.stranger.sign(try! JSONReader.read(bytes).objectValue!)), style: .compact)
        }
        let policy = world.policy(.required)
        func run(_ copies: [[UInt8]]) throws -> (outcomes: [CopyOutcome], events: [ReconcileEvent]) {
            let result = try store.ingest(copies.map { CopyInput(reading: MessageReader.read($0, policy: policy), source: "t") }, now: 1_700_000_000)
            return (result.outcomes, result.events)
        }
        let first = try run([
            world.sign(message("mtz", 1), rng: &rng),
            message("mtz", 2, status: "bogus"),                // unsigned: would hide gap 2
            strangers(message("mtz", 3, status: "bogus")),     // a stranger's: would hide gap 3
            message("mtz", .max, status: "bogus"),             // unsigned: would announce 2^63 - 2
            strangers(message("mtz", .max - 1, status: "bogus")),
            strangers(message("stranger-origin", 5, status: "bogus")),  // unknown origin
            world.sign(message("mtz", 4), rng: &rng),
        ])
        #expect(first.outcomes.compactMap { $0.rejection?.code } == [.unsigned, .badSignature, .unsigned, .badSignature, .unknownOrigin])
        #expect(first.events == [.gap(origin: Slug("mtz")!, from: 2, to: 3)], "\(first.events)")
        // The genuine next message: no trap, no gap (the forged 2^63 - 1 never arrived).
        let second = try run([world.sign(message("mtz", 5), rng: &rng)])
        #expect(second.outcomes == [.applied])
        #expect(second.events == [])
        // A broken copy its origin signed counts: it announces gap 6.
        let third = try run([world.sign(message("mtz", 7, status: "bogus"), rng: &rng)])
        #expect(third.outcomes.first?.rejection?.code == .badValue)
        #expect(third.events == [.gap(origin: Slug("mtz")!, from: 6, to: 6)], "\(third.events)")
        let gaps = try await store.gaps(origin: nil, page: PageRequest())
        #expect(gaps.items.map { "\($0.origin) \($0.first)-\($0.last)" } == ["mtz 2-3", "mtz 6-6"])
    }

    /// Copies that differ only in their signature are one message.
    @Test func resignedCopiesAreDuplicates() throws {
        let world = try SignedWorld()
        let object = try #require(try JSONReader.read(Array(statusMessage.replacingOccurrences(of: "tractor-works", with: "mtz").utf8)).objectValue)
        let copies = world.keys["mtz"]!.map { JSONWriter.bytes(.object($0.sign(object)), style: .compact) }
            + [JSONWriter.bytes(.object(object), style: .compact)]
        var rng = SplitMix(seed: 1)
        let optional = try ingest(copies, policy: world.policy(.optional), rng: &rng)
        #expect(optional.messages.applied == 1)
        // The unsigned copy of an origin with keys is refused for itself, but
        // it is the signed message: counted as its duplicate, in any order.
        #expect(optional.messages.duplicates == 2)
        #expect(optional.messages.rejected == 0, "the unsigned copy of an origin with keys")
        let off = try ingest(copies, policy: world.policy(.off), rng: &rng)
        #expect(off.messages.applied == 1)
        #expect(off.messages.duplicates == 2)
        #expect(off.messages.rejected == 0)
    }

    /// The contract under `required`: a random corpus, signed, drowned in
    /// stripped and forged copies, in random order and batches, gives the
    /// state that the same corpus unsigned gives with signatures off.
    @Test(arguments: [11, 12, 13] as [UInt64]) func forgeriesNeverChangeTheState(seed: UInt64) throws {
        let world = try SignedWorld()
        var rng = SplitMix(seed: seed)
        let corpus = Corpus(seed: seed, messages: 150)
        var copies: [[UInt8]] = []
        for bytes in corpus.copies {
            copies.append(world.sign(bytes, rng: &rng))
            if Int.random(in: 0..<3, using: &rng) == 0 { copies.append(bytes) }  // unsigned
            if Int.random(in: 0..<3, using: &rng) == 0, let forged = world.forge(bytes, rng: &rng) { copies.append(forged) }
        }
        copies.shuffle(using: &rng)
        let reference = try ingest(corpus.copies, policy: world.policy(.off), rng: &rng)
        let signed = try ingest(copies, policy: world.policy(.required), rng: &rng)
        #expect(reference.messages.applied > 50)
        #expect(state(signed) == state(reference))
        copies.reverse()
        #expect(state(try ingest(copies, policy: world.policy(.required), rng: &rng)) == state(reference))
    }
}
