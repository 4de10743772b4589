#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Logging
import StrikeCore
import StrikeJournal
import StrikeOS
import StrikeStore

// SECURITY: this is the only part of the daemon that writes outside the
// spool and the database: batch files into each peer's outbox, never
// anything else, never a network call (the daemon keeps PrivateNetwork=yes;
// NNCP and Syncthing run outside its sandbox). What a batch holds is what
// the peer's filter admits and nothing else: a seized relay holds no more
// than it was meant to. Control lines from peers are hostile input: a `have`
// or `cannot` can cause a re-send, or stop this node asking one peer for
// some seqs, and never changes the state or what is exported.

/// What the spool loop needs to know of the federation (docs/federation.md).
public struct FederationSettings: Sendable, Equatable {
    public struct Peer: Sendable, Equatable {
        public var name: String
        /// Where its batches are written.
        public var outbox: String
        /// NNCP_SENDER of what it sends (its `nncp:` node), if over NNCP.
        public var nncpSender: String?
        /// The origins it may be sent; nil: every origin.
        public var origins: Set<String>?
        /// Besides `origins`: the copies about bodies these scopes admit.
        public var scopes: [Scope]

        public init(name: String, outbox: String, nncpSender: String?, origins: Set<String>?, scopes: [Scope] = []) {
            self.name = name
            self.outbox = outbox
            self.nncpSender = nncpSender
            self.origins = origins
            self.scopes = scopes
        }

        /// Whether every copy of `origin` may go to it (its reports list
        /// only such origins: a relay learns nothing of the others).
        func admits(_ origin: String) -> Bool { origins?.contains(origin) ?? true }

        /// Whether this copy may go to it.
        func admits(_ origin: String, body: BodyRef?) -> Bool {
            admits(origin) || (body.map { body in scopes.contains { $0.admits(body) } } ?? false)
        }
    }

    public struct Inbox: Sendable, Equatable {
        public var path: String
        public var from: String?

        public init(path: String, from: String?) {
            self.path = path
            self.from = from
        }
    }

    public var node: String
    public var peers: [Peer]
    public var inboxes: [Inbox]
    /// Seconds; 0: reports only with batches.
    public var gapReportInterval: Double

    public init(node: String, peers: [Peer], inboxes: [Inbox], gapReportInterval: Double) {
        self.node = node
        self.peers = peers
        self.inboxes = inboxes
        self.gapReportInterval = gapReportInterval
    }

    /// The peer a spool file's copies came from, by its name (`FederationName`).
    func arrivalPeer(_ fileName: String) -> String? {
        switch FederationName.arrival(fileName) {
        case .nncp(let sender)?: peers.first { $0.nncpSender.map(FederationName.safe) == sender }?.name
        case .inbox(let peer)?: peer
        case nil: nil
        }
    }
}

/// Writes batches for the peers and answers their gap reports. Used on the
/// spool's thread only, between passes.
final class Federation {
    let settings: FederationSettings
    let store: Store
    let logger: Logger
    /// Copies per batch file.
    static let batchCopies = 10_000
    /// Copies re-sent for one report at most; the rest after the next.
    static let resendLimit = 10_000
    /// What this node holds, computed at most this often (seconds): a scan
    /// of every applied message, too dear for every commit.
    static let heldRefresh: UInt64 = 30_000_000_000
    private var held: (ranges: SeqRanges, at: UInt64)?
    /// The last report line written to each peer, to write none that says
    /// nothing new on the timer.
    private var lastReport: [String: [UInt8]] = [:]
    private var nextReport: UInt64 = 0

    init(settings: FederationSettings, store: Store, logger: Logger) throws(SpoolTrouble) {
        self.settings = settings
        self.store = store
        self.logger = logger
        do {
            try store.addPeers(settings.peers.map(\.name))
        } catch {
            throw .store(error)
        }
        for peer in settings.peers where peer.nncpSender != nil && (try? Sys.statPath(peer.outbox)) == nil {
            // The state directory's outbox/PEER (and outbox/ itself, which
            // StateDirectory= does not make); an `outbox:` directory (a sync
            // folder, a stick) is the operator's to make.
            if let slash = peer.outbox.lastIndex(of: "/"), slash != peer.outbox.startIndex {
                try? Sys.mkdir(String(peer.outbox[..<slash]), mode: 0o750)
            }
            try? Sys.mkdir(peer.outbox, mode: 0o770)
        }
    }

    // MARK: - Export

    /// Writes every valid version not yet in a peer's batches into a batch
    /// for it (filtered, never back to where its first copy came from), then
    /// moves its mark. A crash between the two re-sends the batch: the peer
    /// counts duplicates. What goes is the stored canonical JSON with its
    /// `sig`: the same message as the copy received (the same identity, and
    /// a signature that verifies, since it covers the canonical form), not
    /// its bytes, which the store does not keep (see Store+Federation.swift).
    /// At most `batchesPerCall` batches per peer per call: a peer added to a
    /// node with a long history is sent it over the loop's next wake-ups,
    /// not in one call that keeps the spool (and the watchdog) waiting.
    static let batchesPerCall = 10

    func export(now: Int64) throws(SpoolTrouble) {
        for peer in settings.peers {
            for _ in 0..<Self.batchesPerCall {
                let (copies, last): ([QueuedCopy], Int64?)
                do {
                    (copies, last) = try store.queued(for: peer.name, limit: Self.batchCopies)
                } catch {
                    throw .store(error)
                }
                guard let last else { break }
                noteHeld(copies)
                let chosen = copies.filter { copy in
                    settings.arrivalPeer(copy.source) != peer.name
                        && (peer.admits(copy.origin)
                            || peer.admits(copy.origin, body: MessageReader.read(copy.bytes, policy: .stored).message?.aboutBody))
                }
                if !chosen.isEmpty {
                    try writeBatch(to: peer, copies: chosen.map(\.bytes), controls: [report(for: peer)], now: now)
                    logger.info("sent \(chosen.count) copies to \(peer.name)", metadata: JournalEvent.federationSent.metadata([
                        "peer": "\(peer.name)", "copies": "\(chosen.count)",
                    ]))
                }
                do {
                    try store.markSent(peer: peer.name, upto: last, copies: chosen.count, now: now)
                } catch {
                    throw .store(error)
                }
            }
        }
    }

    /// On the timer: each peer is told what this node holds and lacks,
    /// unless it was told exactly that already.
    func tick(now: Int64) throws(SpoolTrouble) {
        guard settings.gapReportInterval > 0, Sys.monotonicNanoseconds() >= nextReport else { return }
        nextReport = Sys.monotonicNanoseconds() + UInt64(settings.gapReportInterval * 1e9)
        held = nil
        for peer in settings.peers {
            let line = try report(for: peer, full: true)
            if lastReport[peer.name] == line.bytes { continue }
            try writeBatch(to: peer, copies: [], controls: [line], now: now)
            logger.info("asked \(peer.name) for what this node lacks", metadata: JournalEvent.federationAsked.metadata(["peer": "\(peer.name)"]))
        }
    }

    // MARK: - Gap repair

    /// Control lines found in a spool file.
    func handle(_ controls: [ControlLine], file: String, now: Int64) throws(SpoolTrouble) {
        for control in controls {
            switch control {
            case .batch, .copy:
                if let peer = settings.arrivalPeer(file) { try? store.heardFrom(peer: peer, now: now) }
            case .have(let node, let to, let ranges, let want, let full):
                guard let peer = settings.peers.first(where: { $0.name == node }) else {
                    logger.notice("a gap report from \"\(node)\", which is no peer, was ignored", metadata: JournalEvent.federationReceived.metadata(["peer": "\(node)"]))
                    continue
                }
                if let to, to != settings.node { continue }
                do {
                    try store.heardHave(peer: peer.name, ranges: ranges, now: now)
                } catch {
                    throw .store(error)
                }
                try answer(peer, have: full ? ranges : nil, want: want, now: now)
            case .cannot(let node, let to, let ranges):
                guard let peer = settings.peers.first(where: { $0.name == node }), to == nil || to == settings.node else { continue }
                do {
                    try store.heardCannot(peer: peer.name, ranges: ranges, now: now)
                } catch {
                    throw .store(error)
                }
                logger.info("\(peer.name) cannot supply \(ranges.values.map(SeqRangeSet.count).reduce(0, +)) seqs asked for; not asked again until it has them",
                            metadata: JournalEvent.federationReceived.metadata(["peer": "\(peer.name)"]))
            }
        }
    }

    /// Re-sends what `peer` asked for (`want`) or lacks (held here, not in
    /// its `have`) and may have, and says what it asked for that cannot be
    /// sent. A forged report costs a re-send, nothing else.
    private func answer(_ peer: FederationSettings.Peer, have: SeqRanges?, want: SeqRanges, now: Int64) throws(SpoolTrouble) {
        let mine = try heldRanges()
        var resend: SeqRanges = [:]
        var cannot: SeqRanges = [:]
        for (origin, asked) in want {
            // Scope filters admit some copies of an origin: those are judged
            // one by one below.
            let available = peer.admits(origin) || !peer.scopes.isEmpty ? SeqRangeSet.intersecting(asked, mine[origin] ?? []) : []
            if !available.isEmpty { resend[origin, default: []] += available }
            let missing = SeqRangeSet.subtracting(asked, available)
            if !missing.isEmpty { cannot[origin] = missing }
        }
        for (origin, ranges) in mine where peer.admits(origin) {
            guard let have else { break }
            let lacking = SeqRangeSet.subtracting(ranges, have[origin] ?? [])
            if !lacking.isEmpty { resend[origin, default: []] += lacking }
        }
        resend = resend.mapValues(SeqRangeSet.normalised)
        let copies: [[UInt8]]
        do {
            copies = try store.storedCopies(resend, limit: Self.resendLimit).compactMap { copy in
                if peer.admits(copy.origin) { return copy.bytes }
                let body = MessageReader.read(copy.bytes, policy: .stored).message?.aboutBody
                return peer.admits(copy.origin, body: body) ? copy.bytes : nil
            }
        } catch {
            throw .store(error)
        }
        if copies.isEmpty && cannot.isEmpty { return }
        var controls: [ControlLine] = []
        if !cannot.isEmpty { controls.append(.cannot(node: settings.node, to: peer.name, ranges: Self.capped(cannot))) }
        try writeBatch(to: peer, copies: copies, controls: controls, now: now)
        do {
            try store.markSent(peer: peer.name, upto: 0, copies: 0, resent: copies.count, now: now)
        } catch {
            throw .store(error)
        }
        logger.info("answered \(peer.name)'s gap report: re-sent \(copies.count) copies, cannot supply \(cannot.values.map(SeqRangeSet.count).reduce(0, +)) seqs",
                    metadata: JournalEvent.federationAnswered.metadata([
                        "peer": "\(peer.name)", "copies": "\(copies.count)",
                    ]))
    }

    /// Adds newly accepted copies to what this node is known to hold, so
    /// that the report riding with their batch lists them without a scan.
    private func noteHeld(_ copies: [QueuedCopy]) {
        guard var ranges = held?.ranges else { return }
        var added: [String: [ClosedRange<Int64>]] = [:]
        for copy in copies { added[copy.origin, default: []].append(copy.seq...copy.seq) }
        for (origin, list) in added { ranges[origin] = SeqRangeSet.normalised((ranges[origin] ?? []) + list) }
        held?.ranges = ranges
    }

    private func heldRanges() throws(SpoolTrouble) -> SeqRanges {
        if let held, Sys.monotonicNanoseconds() - held.at < Self.heldRefresh { return held.ranges }
        do {
            let ranges = try store.heldRanges()
            held = (ranges, Sys.monotonicNanoseconds())
            return ranges
        } catch {
            throw .store(error)
        }
    }

    /// The `have` line for `peer`: what this node holds of the origins the
    /// peer may be sent, and what it lacks of them, less what the peer said
    /// it cannot supply.
    func report(for peer: FederationSettings.Peer, full: Bool = false) throws(SpoolTrouble) -> ControlLine {
        let refused: SeqRanges
        do {
            refused = try store.cannot(peer: peer.name)
        } catch {
            throw .store(error)
        }
        // Only the origins its filter admits: a seized relay learns nothing
        // of the others, not even their names.
        let mine = try heldRanges().filter { peer.admits($0.key) }
        var want: SeqRanges = [:]
        for (origin, ranges) in mine {
            guard let top = ranges.last?.upperBound else { continue }
            let missing = SeqRangeSet.subtracting(SeqRangeSet.subtracting([1...top], ranges), refused[origin] ?? [])
            if !missing.isEmpty { want[origin] = missing }
        }
        return .have(node: settings.node, to: peer.name, ranges: Self.capped(mine), want: Self.capped(want), full: full)
    }

    /// At most what fits in one line well under 64 KiB: fewer ranges claimed
    /// (the peer then re-sends a little more) or asked for (asked next time).
    static func capped(_ ranges: SeqRanges) -> SeqRanges {
        var result: SeqRanges = [:]
        var budget = 24_000
        for origin in ranges.keys.sorted() {
            let list = Array(ranges[origin]!.prefix(64))
            let cost = origin.utf8.count + 8 + list.count * 44
            if cost > budget || result.count >= ControlLine.maximumOrigins { break }
            budget -= cost
            result[origin] = list
        }
        return result
    }

    // MARK: - Batch files

    /// `batch-NODE-16HEX.jsonl` in the peer's outbox, written atomically:
    /// a header line, the copies (one per line, byte for byte; framed in a
    /// `copy` line when they hold a line break), then the control lines.
    private func writeBatch(to peer: FederationSettings.Peer, copies: [[UInt8]], controls: [ControlLine], now: Int64) throws(SpoolTrouble) {
        var bytes = ControlLine.batch(node: settings.node).bytes
        bytes.append(0x0A)
        for copy in copies {
            if copy.contains(0x0A) || copy.contains(0x0D) {
                bytes += ControlLine.copy(copy).bytes
            } else {
                bytes += copy
            }
            bytes.append(0x0A)
        }
        for control in controls {
            bytes += control.bytes
            bytes.append(0x0A)
            if case .have = control { lastReport[peer.name] = control.bytes }
        }
        let name = "batch-\(settings.node)-\(String(format: "%016llx", UInt64.random(in: 0...UInt64.max))).jsonl"
        do {
            try AtomicFile.write(directory: peer.outbox, name: name, mode: 0o640, bytes: bytes)
        } catch {
            throw .system(error)
        }
        if controls.contains(where: { if case .have = $0 { true } else { false } }) {
            try? store.reportSent(peer: peer.name, now: now)
        }
    }
}
