#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import StrikeJournal
import StrikeCore
import StrikeOS
import StrikeStore
import Synchronization

/// The daemon's spool loop, on a thread of its own: all spool I/O and every
/// write transaction of the spool happen there, one at a time.
///
/// It scans `incoming/` at start, after an inotify overflow and on a timer,
/// and otherwise reacts to inotify events within milliseconds. On a stop
/// request it commits the batch in flight and returns. Trouble of the
/// environment (database locked, disk full) keeps the files where they are and
/// retries with back-off; it never quarantines a good message.
public final class SpoolService: Sendable {
    public struct Settings: Sendable, Equatable {
        public var processor: SpoolProcessor.Settings
        public var rescanInterval: Double
        /// The longest the loop sleeps when idle, in seconds: it must wake more
        /// often than the watchdog expects a sign of life.
        public var maximumSleep: Double

        public init(processor: SpoolProcessor.Settings, rescanInterval: Double, maximumSleep: Double = 10) {
            self.processor = processor
            self.rescanInterval = rescanInterval
            self.maximumSleep = maximumSleep
        }
    }

    /// What the loop tells the rest of the daemon.
    public struct Hooks: Sendable {
        /// After the first full scan (READY=1 may follow).
        public var ready: @Sendable () -> Void = {}
        /// After each pass that did something, with live totals for STATUS=.
        public var passed: @Sendable (PassReport, _ backlog: Int) -> Void = { _, _ in }
        /// Each time the loop wakes, even idle: for the watchdog.
        public var alive: @Sendable () -> Void = {}

        public init() {}
    }

    public enum RequeueError: Error, CustomStringConvertible {
        case notFound(String)
        case invalidName(String)
        /// The name of a reason file an earlier version wrote beside `copy`.
        case reasonFile(String, copy: String)
        case trouble(String)

        public var description: String {
            switch self {
            case .notFound(let name): "no file \"\(name)\" in quarantine/"
            case .invalidName(let name): "\"\(name)\" is not the name of a quarantined copy (a plain file name, not a hidden file or a copy's reason file)"
            case .reasonFile(let name, let copy): "\"\(name)\" is the reason file of the quarantined copy \"\(copy)\", not a copy; requeue \"\(copy)\""
            case .trouble(let why): why
            }
        }
    }

    private struct Control {
        var stop = false
        var rescan = false
        var settings: Settings
        var requeues: [(name: String, done: @Sendable (Result<String, RequeueError>) -> Void)] = []
        var requeuesByHash: [(hash: [UInt8], done: @Sendable (Result<[String], RequeueError>) -> Void)] = []
    }

    public let layout: SpoolLayout
    let store: Store
    let logger: Logger
    let hooks: Hooks
    private let control: Mutex<Control>
    /// Names already warned about as unreadable (once each per run).
    private let unreadableWarned = Mutex<Set<String>>([])
    /// Origins warned about as failing every signature (once each per run).
    private let keyWarned = Mutex<Set<String>>([])
    private let wakePipe: WakePipe

    public init(layout: SpoolLayout, store: Store, settings: Settings, logger: Logger, hooks: Hooks) throws(SystemError) {
        self.layout = layout
        self.store = store
        self.logger = logger
        self.hooks = hooks
        self.control = Mutex(Control(settings: settings))
        wakePipe = try WakePipe()
    }

    // MARK: - Requests from other threads

    /// Finish the batch in flight, then return from `run()`.
    public func requestStop() {
        control.withLock { $0.stop = true }
        wake()
    }

    /// Scan the whole spool soon.
    public func requestRescan() {
        control.withLock { $0.rescan = true }
        wake()
    }

    /// New settings (after SIGHUP), applied from the next pass.
    public func update(_ settings: Settings) {
        control.withLock { $0.settings = settings }
        wake()
    }

    /// Moves a quarantined copy back into incoming/ and forgets its version,
    /// so that it is judged afresh. Returns its name in incoming/.
    public func requeue(_ name: String) async throws(RequeueError) -> String {
        let result: Result<String, RequeueError> = await withCheckedContinuation { continuation in
            control.withLock { $0.requeues.append((name, { continuation.resume(returning: $0) })) }
            wake()
        }
        return try result.get()
    }

    /// Requeues every quarantined copy of the rejected version whose identity
    /// is `hash` (as ListRejected shows it), found by reading the copies, not
    /// by their names. Returns their names in incoming/.
    public func requeueRejected(hash: [UInt8]) async throws(RequeueError) -> [String] {
        let result: Result<[String], RequeueError> = await withCheckedContinuation { continuation in
            control.withLock { $0.requeuesByHash.append((hash, { continuation.resume(returning: $0) })) }
            wake()
        }
        return try result.get()
    }

    private func wake() { wakePipe.wake() }

    // MARK: - The loop

    /// Runs the loop on its own thread until a stop request.
    public func run() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread { [self] in
                do {
                    try loop()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "strikecd-spool"
            thread.start()
        }
    }

    /// How long the first pass may work before READY=1 (it stops at the end
    /// of the batch in flight): strikecd(8) promises READY=1 within a second.
    static let readyBudget: UInt64 = 500_000_000

    private func loop() throws {
        var settings = control.withLock { $0.settings }
        let processor = try SpoolProcessor(layout: layout, store: store, settings: settings.processor)
        var waiting: [String: Int64] = [:]
        // Details of each commit are logged as soon as it is durable.
        // A commit is a sign of life for the watchdog: a .jsonl of a million
        // lines is one pass of minutes, with a commit every fraction of a second.
        processor.reporter = { [self] report in
            hooks.alive()
            log(report, backlog: report.waiting.count)
        }
        // Federation (docs/federation.md): batches for peers after each
        // pass, their reports answered, inboxes taken into incoming/.
        var federation: Federation?
        var inboxes: InboxFeeder?
        if let settings = settings.processor.federation {
            if !settings.peers.isEmpty { federation = try Federation(settings: settings, store: store, logger: logger) }
            if !settings.inboxes.isEmpty { inboxes = InboxFeeder(inboxes: settings.inboxes, layout: layout, store: store, logger: logger) }
        }
        func federate(scanInboxes: Bool) {
            let now = Sys.now()
            do {
                if let inboxes, scanInboxes { _ = try inboxes.scan(now: now, gracePeriod: settings.processor.gracePeriod) }
                if let federation {
                    for (control, file) in processor.takeControls() { try federation.handle([control], file: file, now: now) }
                    try federation.export(now: now)
                    try federation.tick(now: now)
                } else {
                    _ = processor.takeControls()
                }
            } catch {
                // An outbox on a full disk, a stick pulled out: the queue
                // keeps the copies, and the next pass tries again.
                logger.warning("federation: \(error); will try again", metadata: JournalEvent.retrying.metadata(["reason": "\(error)"]))
            }
        }
        let inotify = try Inotify()
        try inotify.watch(layout.incoming)
        var backoff: Double = 0
        var retryAt: UInt64? = nil
        var needScan = true
        var readySent = false
        var nextRescan = Sys.monotonicNanoseconds()
        var nextInboxScan = Sys.monotonicNanoseconds()
        // Work since the caches were last released: once the spool has been
        // quiet for a second, SQLite's caches and the heap's free memory go
        // back to the system, so an idle daemon stays small however large the
        // store and however big the last drop.
        var worked = false

        // Work a previous run committed but did not finish.
        do {
            let report = try processor.recover(now: Sys.now())
            if report.filesDone > 0 {
                logger.notice("finished \(report.filesDone) spool files accounted for before the last stop", metadata: JournalEvent.recovered.metadata(["files": "\(report.filesDone)"]))
            }
        } catch {
            logger.warning("could not finish the previous run's work yet: \(error)", metadata: JournalEvent.retrying.metadata())
        }
        // Batches a crash kept from being written: the queue still holds them.
        federate(scanInboxes: true)

        while true {
            let (stop, rescan, newSettings, requeues, requeuesByHash) = control.withLock { state in
                let result = (state.stop, state.rescan, state.settings, state.requeues, state.requeuesByHash)
                state.rescan = false
                state.requeues = []
                state.requeuesByHash = []
                return result
            }
            hooks.alive()
            if stop { break }
            if newSettings != settings {
                settings = newSettings
                // Without this the processor kept the settings it started with.
                processor.settings = newSettings.processor
                needScan = true
            }
            if rescan {
                // An operator who freed space or a lock and reloads wants a retry now.
                needScan = true
                retryAt = nil
            }
            for request in requeues {
                request.done(requeue(request.name, processor: processor))
            }
            for request in requeuesByHash {
                request.done(requeueRejected(request.hash, processor: processor))
            }

            var names: [String] = []
            var undecodable: [FileName] = []
            for event in drainEvents(inotify, needScan: &needScan) {
                switch event {
                case .name(let name): names.append(name)
                case .undecodableName(let bytes): undecodable.append(.undecodable(bytes))
                case .overflow:
                    logger.notice("inotify queue overflowed; rescanning the spool", metadata: JournalEvent.spoolError.metadata())
                    needScan = true
                case .directoryGone:
                    // The scan that follows looks at what is there now.
                    needScan = true
                }
            }
            let clock = Sys.monotonicNanoseconds()
            if clock >= nextRescan { needScan = true }
            let now = Sys.now()
            for (name, due) in waiting where due <= now {
                names.append(name)
                waiting[name] = nil
            }

            if let due = retryAt, clock < due {
                // Backing off after trouble: only wait.
            } else {
                retryAt = nil
                do {
                    let shouldStop = { self.control.withLock { $0.stop } }
                    if !undecodable.isEmpty { names += try processor.setAsideUndecodable(undecodable, now: now) }
                    if needScan || !names.isEmpty { worked = true }
                    if needScan, try !directoriesInPlace(inotify) {
                        // incoming/ is gone: nothing to read until it is back.
                        needScan = false
                        nextRescan = Sys.monotonicNanoseconds() + UInt64(settings.rescanInterval * 1e9)
                    } else if needScan {
                        let stream = try DirectoryStream(fd: layout.incomingFD, path: layout.incoming)
                        // In chunks, so memory stays bounded however many files
                        // wait, and so the loop shows signs of life between them.
                        // A chunk is one transaction: a whole batch of names
                        // (transactions of 1,000 files wrote 2.9 GB for 100,000
                        // files, of 10,000 about 0.6 GB), but a small first one
                        // before READY=1.
                        var scanAgain = false
                        while true {
                            let entries = try stream.next(limit: readySent ? settings.processor.batchSize : 1000)
                            if entries.isEmpty { break }
                            let chunk = try processor.setAsideUndecodable(entries, now: Sys.now())
                            // Before READY=1 a pass stops after about half a
                            // second (at the end of a batch): a big .jsonl, new or
                            // interrupted by the last stop, is finished after it.
                            let readyBy = readySent ? UInt64.max : Sys.monotonicNanoseconds() + Self.readyBudget
                            let report = try processor.process(chunk, now: Sys.now()) {
                                shouldStop() || Sys.monotonicNanoseconds() > readyBy
                            }
                            // A name processed again has news: done, or waiting anew.
                            for name in chunk { waiting[name] = nil }
                            for (name, due) in report.waiting { waiting[name] = due }
                            if report.interrupted {
                                // Out of time before READY=1: scan again at once, after it.
                                scanAgain = !shouldStop()
                                if scanAgain, !readySent {
                                    readySent = true
                                    hooks.ready()
                                }
                                break
                            }
                            hooks.alive()
                            // Ready once working: a courier's backlog of 100,000
                            // files must not hold READY=1 past systemd's start timeout.
                            if !readySent {
                                readySent = true
                                hooks.ready()
                            }
                        }
                        needScan = scanAgain
                        nextRescan = Sys.monotonicNanoseconds() + UInt64(settings.rescanInterval * 1e9)
                    } else if !names.isEmpty {
                        let report = try processor.process(names, now: now, shouldStop: shouldStop)
                        for name in names { waiting[name] = nil }
                        for (name, due) in report.waiting { waiting[name] = due }
                    }
                    if backoff > 0 {
                        logger.notice("the spool is being processed again", metadata: JournalEvent.recovered.metadata())
                    }
                    backoff = 0
                } catch {
                    // Trouble of the environment, reading the directory too
                    // (EMFILE, ENOMEM, EIO): back off and retry, never stop.
                    backoff = min(60, max(1, backoff * 2))
                    retryAt = Sys.monotonicNanoseconds() + UInt64(backoff * 1e9)
                    needScan = true
                    logger.warning("\(error); the files stay in incoming/ and will be retried in \(Int(backoff)) s", metadata: JournalEvent.retrying.metadata([
                        "reason": "\(error)", "delay": "\(Int(backoff)) s",
                    ]))
                }
            }
            if !readySent, !needScan {
                readySent = true
                hooks.ready()
            }
            if federation != nil || inboxes != nil {
                // Inboxes are looked at on the rescan timer (no inotify
                // watch: a stick comes and goes), and right after a scan.
                federate(scanInboxes: clock >= nextInboxScan)
                if clock >= nextInboxScan { nextInboxScan = Sys.monotonicNanoseconds() + UInt64(min(settings.rescanInterval, 10) * 1e9) }
            }

            // Sleep until an event, a request, a due file or the rescan timer.
            var deadline = nextRescan
            if let due = retryAt { deadline = min(deadline, due) }
            if let soonest = waiting.values.min() {
                // Due times come from file times, which a writer sets: at most
                // a day ahead here, however far off they claim to be.
                let (ahead, overflow) = soonest.subtractingReportingOverflow(Sys.now())
                let seconds = overflow ? (soonest > 0 ? 86_400 : 0) : min(86_400, max(0, ahead))
                deadline = min(deadline, Sys.monotonicNanoseconds() + UInt64(seconds) * 1_000_000_000 + 50_000_000)
            }
            let clockNow = Sys.monotonicNanoseconds()
            let cap = Int64(settings.maximumSleep * 1000)
            var timeout = deadline > clockNow ? Int32(min(cap, Int64((deadline - clockNow) / 1_000_000) + 1)) : 0
            if needScan, retryAt == nil { timeout = 0 }
            if worked, timeout != 0 { timeout = timeout < 0 ? 1000 : min(timeout, 1000) }
            var fds = [pollfd(fd: inotify.fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wakePipe.readFD, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, timeout)
            if fds[1].revents != 0 { wakePipe.drain() }
            if worked, ready == 0, timeout >= 1000 {
                finishedWork(waiting: waiting.count)
                store.releaseMemory()
                Sys.trimHeap()
                worked = false
            }
        }
    }

    /// Whether incoming/ is there, checked before each scan: a directory
    /// removed and made again (`rm -rf incoming; mkdir incoming`) is another
    /// directory, which the descriptor held since start-up does not see. It
    /// is opened and watched anew, and the journal says so.
    private func directoriesInPlace(_ inotify: Inotify) throws(SpoolTrouble) -> Bool {
        let refresh: SpoolLayout.Refresh
        do {
            refresh = try layout.refresh()
            if refresh.reopened.contains(layout.incoming) { try inotify.watch(layout.incoming) }
        } catch {
            throw .system(error)
        }
        for path in refresh.reopened {
            logger.notice("\(path) was replaced by another directory; reading the new one", metadata: JournalEvent.spoolError.metadata([
                "file": "\(path)", "reason": "directory replaced",
            ]))
        }
        let missing = refresh.incomingMissing
        if missing, !incomingReportedMissing.withLock({ $0 }) {
            logger.error("the spool's incoming/ directory was removed or moved; files will be read again once it is back", metadata: JournalEvent.spoolError.metadata([
                "file": "\(layout.incoming)", "reason": "directory removed or moved",
            ]))
        }
        incomingReportedMissing.withLock { $0 = missing }
        return !missing
    }

    /// Whether the journal has been told that incoming/ is gone (once, until it is back).
    private let incomingReportedMissing = Mutex(false)

    /// The events waiting, or none (and a rescan) when they cannot be read.
    private func drainEvents(_ inotify: Inotify, needScan: inout Bool) -> [Inotify.Event] {
        do {
            return try inotify.drain()
        } catch {
            logger.warning("reading inotify events failed: \(error); rescanning", metadata: JournalEvent.spoolError.metadata())
            needScan = true
            return []
        }
    }

    /// Copies since the spool was last quiet.
    private struct Totals {
        var copies = 0, applied = 0, duplicates = 0

        mutating func add(_ report: PassReport) {
            copies += report.copies
            applied += report.applied
            duplicates += report.duplicates
        }
    }
    private let since = Mutex(Totals())

    /// After a second without work: one entry for everything since the spool
    /// was last quiet, so that an operator sees when a courier's drop is done.
    private func finishedWork(waiting: Int) {
        let since = self.since.withLock { totals in
            defer { totals = Totals() }
            return totals
        }
        guard since.copies > 0 else { return }
        let rejected = since.copies - since.applied - since.duplicates
        // Incomplete files, and .jsonl files read to the end but changed
        // within the grace period (a writer may still append).
        let still = waiting > 0 ? "; \(waiting) files wait until they have been left alone for the grace period" : ""
        logger.info("the spool is quiet: applied \(since.applied), duplicates \(since.duplicates), rejected \(rejected) of \(since.copies) copies since it last was\(still)", metadata: JournalEvent.ingestFinished.metadata([
            "copies": "\(since.copies)", "applied": "\(since.applied)", "duplicates": "\(since.duplicates)", "rejected": "\(rejected)",
        ]))
    }

    private func log(_ report: PassReport, backlog: Int) {
        // Details quote the offending value, which may be a person's name
        // written where a pseudonym belongs: above debug, only identifiers.
        for item in report.rejected {
            var metadata: Logger.Metadata = JournalEvent.quarantined.metadata([
                "file": "\(item.file)", "reason": "\(item.rejection.code.rawValue)",
            ])
            if let line = item.line { metadata["line"] = "\(line)" }
            if let target = item.quarantinedAs { metadata["quarantined_as"] = "\(target)" }
            let place = item.line.map { "\(item.file):\($0)" } ?? item.file
            logger.notice("rejected \(place): \(item.rejection.code.rawValue); moved to quarantine/\(item.quarantinedAs ?? item.file) with its reason", metadata: metadata)
            logger.debug("rejected \(place): \(item.rejection.detail)", metadata: ["file": "\(item.file)"])
        }
        if report.rejected.contains(where: { $0.rejection.code == .badSignature }),
           let failing = try? store.originsFailingEverySignature() {
            for (origin, failed) in failing where keyWarned.withLock({ $0.insert(origin).inserted }) {
                logger.warning("every message of \(origin) so far (\(failed)) failed its signature: the keyring's key for \(origin) may be wrong (compare \(origin).pub with the committee's key by phone), or someone else is signing as \(origin)", metadata: JournalEvent.configError.metadata([
                    "origin": "\(origin)", "failed": "\(failed)",
                ]))
            }
        }
        for item in report.setAside {
            logger.notice("set aside \(item.file) unread (\(item.rejection.code.rawValue)): \(item.rejection.detail)", metadata: JournalEvent.quarantined.metadata([
                "file": "\(item.file)", "reason": "\(item.rejection.code.rawValue)",
            ]))
        }
        for event in report.conflicts {
            switch event {
            case .conflict(let envelope, let removed):
                logger.warning("conflict: different valid versions of \(envelope.origin) #\(envelope.seq); all are rejected\(removed ? " and the one applied earlier was taken out of the state" : "")", metadata: JournalEvent.conflict.metadata([
                    "origin": "\(envelope.origin)", "seq": "\(envelope.seq)",
                ]))
            case .gap(let origin, let from, let to):
                logger.notice("gap: \(origin) has sent #\(to + 1) but not \(from == to ? "#\(from)" : "#\(from) to #\(to)") (yet)", metadata: JournalEvent.gap.metadata([
                    "origin": "\(origin)", "seq": "\(to + 1)", "missing_from": "\(from)", "missing_to": "\(to)",
                ]))
            case .restored:
                break  // Only a requeue restores, and it says so itself.
            case .report(let envelope, let type, let body):
                logger.notice("\(envelope.origin) #\(envelope.seq) (\(type.rawValue)) is about \(body), which \(envelope.origin) does not speak for: kept as a report from another origin; it moves nothing", metadata: JournalEvent.reportFromOther.metadata([
                    "origin": "\(envelope.origin)", "seq": "\(envelope.seq)", "type": "\(type.rawValue)", "body": "\(body)",
                ]))
            case .rescoped(let messages, let subjects) where messages > 0 || subjects > 0:
                logger.notice("the keyring's scopes changed: \(messages) applied messages moved in or out of scope; \(subjects) subjects worked out again", metadata: JournalEvent.rescoped.metadata([
                    "messages": "\(messages)", "subjects": "\(subjects)",
                ]))
            case .rescoped:
                break
            }
        }
        for name in report.unreadable where unreadableWarned.withLock({ $0.insert(name).inserted }) {
            logger.warning("cannot read incoming/\(name): permission denied; it stays there until its writer makes it group-readable (chmod 0640)", metadata: JournalEvent.spoolError.metadata([
                "file": "\(name)", "reason": "permission denied",
            ]))
        }
        for name in report.rewritten {
            logger.notice("incoming/\(name) was rewritten while it was being read (the lines read before are no longer there); it is read afresh", metadata: [
                "file": "\(name)",
            ])
        }
        for name in report.changedAfterReading {
            logger.notice("incoming/\(name) was replaced or written to after it was read; the new file stays, to be read next", metadata: [
                "file": "\(name)",
            ])
        }
        for name in report.skipped {
            logger.debug("left \(name) in incoming/ untouched (a directory, or not readable)", metadata: ["file": "\(name)"])
        }
        if report.copies > 0 {
            let rejected = report.copies - report.applied - report.duplicates
            logger.info("applied \(report.applied), duplicates \(report.duplicates), rejected \(rejected) of \(report.copies) copies", metadata: JournalEvent.batchApplied.metadata([
                "copies": "\(report.copies)", "applied": "\(report.applied)",
                "duplicates": "\(report.duplicates)", "rejected": "\(rejected)",
            ]))
            since.withLock { $0.add(report) }
            if logger.logLevel <= .debug {
                for copy in report.duplicateCopies {
                    let place = copy.line.map { "\(copy.file):\($0)" } ?? copy.file
                    var metadata = JournalEvent.duplicateSkipped.metadata(["file": "\(copy.file)"])
                    if let line = copy.line { metadata["line"] = "\(line)" }
                    logger.debug("duplicate \(place): seen before, counted and removed", metadata: metadata)
                }
                for change in report.changes {
                    logger.debug("\(change.outcome.rawValue) \(change.origin ?? "?") #\(change.seq.map(String.init) ?? "?") \(change.type ?? "")", metadata: [
                        "origin": "\(change.origin ?? "")", "seq": "\(change.seq.map(String.init) ?? "")", "type": "\(change.type ?? "")",
                    ])
                }
            }
        }
        if report.copies > 0 || !report.rejected.isEmpty || !report.setAside.isEmpty {
            hooks.passed(report, backlog)
        }
    }

    /// The identities the quarantined copy `name` may have been recorded
    /// under: as it is read now, and, for a file over 64 KiB, as a file over
    /// max_file_size is (a digest of its whole content), in case that limit
    /// was lower when it was judged.
    func recordedIdentities(ofQuarantined name: String, limits: FileLimits) -> [CopyReading.Identity] {
        let display = layout.quarantine + "/" + name
        func open(_ limits: FileLimits) -> MessageFileReader.Opened? {
            try? MessageFileReader.open(at: layout.quarantineFD, name, display: display, lines: false, policy: .stored, limits: limits)
        }
        switch open(limits) {
        case .tooLarge(_, let identity)?:
            return [identity]
        case .reader(let reader)?:
            guard let copy = try? reader.next(limit: 1).first else { return [] }
            var identities = copy.raw.map { MessageReader.recordedIdentities($0) } ?? [copy.reading.identity]
            let smallest = FileLimits(maximumFileBytes: Int64(ValidationPolicy.maximumMessageBytes))
            if Int64(reader.info.st_size) > smallest.maximumFileBytes, case .tooLarge(_, let whole)? = open(smallest) {
                identities.append(whole)
            }
            return identities
        case .notRegular?, nil:
            return []
        }
    }

    func requeue(_ name: String, processor: SpoolProcessor) -> Result<String, RequeueError> {
        // Hidden names are reason files and temporaries; `X.reason` beside
        // `X` is the reason an earlier version wrote. A copy may well be
        // named `X.reason`: its own reason is `.X.reason.reason`.
        guard QuarantineNames.isCopyName(name) else { return .failure(.invalidName(name)) }
        if QuarantineNames.isLegacyReason(name, in: layout.quarantineFD) {
            return .failure(.reasonFile(name, copy: String(name.dropLast(".reason".count))))
        }
        guard let info = try? Sys.lstatat(layout.quarantineFD, name), info.isRegularFile || info.isSymlink || !info.isDirectory else {
            return .failure(.notFound(name))
        }
        // Forget the version first: if the move then fails, requeueing again
        // finds nothing to forget and moves it.
        let identities = info.isRegularFile ? recordedIdentities(ofQuarantined: name, limits: processor.settings.limits) : []
        if !identities.isEmpty {
            do {
                let events = try store.write { db in
                    var reconciler = Reconciler(db, now: Sys.now(), speakers: processor.settings.signatures.speakers)
                    // The policy, keyring or max_file_size may have changed since
                    // the copy was judged: forget the first identity it was recorded under.
                    var forgotten = false
                    for identity in identities where !forgotten {
                        if try Reconciler.recordedState(of: identity, in: db) == "applied" { continue }
                        forgotten = try reconciler.forget(identity)
                    }
                    try reconciler.finish()
                    return reconciler.events
                }
                // Durable now: a conflict this requeue undid shows in Watch.
                var report = PassReport()
                report.changes = Change.eventChanges(events)
                for case .restored(let envelope, _, _) in events {
                    logger.notice("\(envelope.origin) #\(envelope.seq) is applied again: its rival version was forgotten", metadata: JournalEvent.requeued.metadata([
                        "origin": "\(envelope.origin)", "seq": "\(envelope.seq)",
                    ]))
                }
                if !report.changes.isEmpty { hooks.passed(report, 0) }
            } catch {
                return .failure(.trouble("could not forget the rejected version: \(error)"))
            }
        }
        let reasonFile = QuarantineNames.reasonFile(of: name, in: layout.quarantineFD)
        let base = name.replacingOccurrences(of: ".sync-conflict-", with: ".resolved-conflict-")
        for attempt in 0..<1000 {
            let target = attempt == 0 ? base : "\(base).\(attempt)"
            if (try? Sys.lstatat(layout.incomingFD, target)) != nil { continue }
            do {
                try Sys.renameat(layout.quarantineFD, name, layout.incomingFD, target, display: layout.quarantine + "/" + name)
                if let reasonFile { try? Sys.unlinkat(layout.quarantineFD, reasonFile) }
                try layout.syncQuarantine()
                try layout.syncIncoming()
                logger.notice("requeued \(name) as incoming/\(target)", metadata: JournalEvent.requeued.metadata(["file": "\(name)"]))
                requestRescan()
                return .success(target)
            } catch {
                return .failure(.trouble("could not move \(name) back into incoming/: \(error)"))
            }
        }
        return .failure(.trouble("no free name in incoming/ for \(name)"))
    }
}
