import Logging
import StrikeJournal
import Foundation
import NIOCore
import NIOPosix
import ServiceLifecycle
import StrikeConfig
import StrikeCore
import StrikeOS
import StrikeSpool
import StrikeServer
import StrikeSigning
import StrikeStore
import StrikeSystemd
import Synchronization
import UnixSignals
import VarlinkProtocol

/// The running daemon: wires the store, the spool loop, signals and (later)
/// the Varlink server and systemd notifications. Owns no logic of its own.
final class Daemon: Sendable {
    let config: Mutex<DaemonConfig>
    /// Federation as configured at start: a reload does not change it.
    let federation: FederationSettings?
    /// The signature policy and keyring in use; replaced on reload.
    let signatures: CurrentSignatures
    let configFile: String?
    let overrides: DaemonOptions
    /// `--log-level`: a reload keeps it whatever `log_level` says.
    let fixedLogLevel: Logger.Level?
    let logger: Logger
    let store: Store
    let layout: SpoolLayout
    let spool: SpoolService
    let feed = ChangeFeed()
    let server: VarlinkServer
    let notifier = SystemdNotifier()
    /// READY=1 waits for both the first spool scan and the listening socket.
    let readiness = Mutex<(spoolScanned: Bool, listening: Bool, sent: Bool)>((false, false, false))
    /// When the spool loop last showed a sign of life.
    let heartbeat = Heartbeat()

    init(
        config: DaemonConfig, signatures: SignatureRules, configFile: String?, overrides: DaemonOptions,
        fixedLogLevel: Logger.Level?, logger: Logger
    ) throws {
        self.config = Mutex(config)
        self.federation = config.federationSettings
        self.signatures = CurrentSignatures(signatures)
        self.configFile = configFile
        self.overrides = overrides
        self.fixedLogLevel = fixedLogLevel
        self.logger = logger
        // Data at rest: before SQLite creates or opens anything.
        do {
            try PrivateFiles.checkDirectory(of: config.database, holding: "database")
            for warning in try PrivateFiles.restrict(config.database, extras: [config.database + "-wal", config.database + "-shm"]) {
                logger.warning("\(warning)", metadata: JournalEvent.configError.metadata(["file": "\(config.database)"]))
            }
        } catch {
            throw DaemonError("cannot use the database \(config.database): \(error)")
        }
        do {
            // Short: the spool loop retries with back-off, and a long wait would
            // hold up shutdown.
            store = try Store(path: config.database, busyTimeout: 5)
        } catch {
            throw DaemonError("cannot open the database \(config.database): \(error.detail)")
        }
        // Before READY: a store folded under other scopes (another keyring,
        // a store from before scopes) is brought to this keyring's first.
        do {
            let (messages, subjects) = try store.adoptScopes(signatures.speakers, now: Sys.now())
            if messages > 0 || subjects > 0 {
                logger.notice("the keyring's scopes changed since the state was last worked out: \(messages) applied messages moved in or out of scope; \(subjects) subjects worked out again", metadata: JournalEvent.rescoped.metadata([
                    "messages": "\(messages)", "subjects": "\(subjects)",
                ]))
            }
        } catch {
            throw DaemonError("cannot bring the database \(config.database) to the keyring's scopes: \(error.detail)")
        }
        do {
            layout = try SpoolLayout(root: config.spool)
        } catch {
            throw DaemonError("cannot use the spool \(config.spool): \(error)")
        }
        var hooks = SpoolService.Hooks()
        let (storeForStatus, notifier, feed) = (store, notifier, feed)
        // Set below, once self is complete; the hooks only run after run() starts.
        let readyCallback = Mutex<(@Sendable () -> Void)?>(nil)
        hooks.ready = { readyCallback.withLock { $0 }?() }
        hooks.passed = { report, backlog in
            feed.publish(report.changes)
            if let summary = try? storeForStatus.summary() {
                notifier.status(Daemon.status(summary, backlog: backlog))
            }
        }
        let heartbeat = heartbeat
        hooks.alive = { heartbeat.beat() }
        var settings = config.spoolSettings(signatures: signatures)
        if let ping = notifier.watchdogPingInterval {
            // Wake at least twice per ping interval, so a healthy idle loop
            // always has a fresh sign of life when the watchdog task looks.
            settings.maximumSleep = min(settings.maximumSleep, Double(ping.components.seconds) / 2 + 0.1)
        }
        spool = try SpoolService(layout: layout, store: store, settings: settings, logger: logger, hooks: hooks)

        // The socket: systemd's (strikecd.socket, socket activation), else our own.
        let listen: ListenSource
        do {
            if let socket = try ListenSockets.take().firstUnixStreamListener(named: "varlink") {
                listen = .adopted(fileDescriptor: socket.fileDescriptor)
            } else {
                try Self.ensureParentDirectory(of: config.socket)
                listen = .path(config.socket, mode: 0o660, group: config.queryGroup)
            }
        } catch {
            throw DaemonError("cannot set up the query socket: \(error)")
        }
        var limits = ServerConfiguration.Limits()
        limits.maximumConnections = config.maxConnections
        limits.maximumConnectionsPerUID = config.maxConnectionsPerUser
        limits.maximumMessageBytes = config.maxRequestSize
        limits.partialMessageTimeout = .milliseconds(Int64(config.requestTimeout * 1000))
        limits.idleTimeout = config.idleTimeout > 0 ? .milliseconds(Int64(config.idleTimeout * 1000)) : nil
        let serverConfiguration = ServerConfiguration(
            listen: listen, info: ServiceInfo(version: StrikeVersion.text),
            queryGroup: config.queryGroup, adminGroup: config.adminGroup, limits: limits
        )
        let admin = DaemonAdmin(
            submitter: StoreAdmin(store: store, feed: feed, maximumFutureSkew: config.maxFutureSkew,
                                  signatures: { [current = self.signatures] in current.rules }),
            spool: spool, feed: feed
        )
        server = VarlinkServer(configuration: serverConfiguration, store: store, feed: feed, admin: admin, logger: logger)
        readyCallback.withLock { $0 = { [weak self] in self?.becameReady(\.spoolScanned) } }
    }

    /// Records one half of readiness; the second half sends READY=1.
    func becameReady(_ part: WritableKeyPath<(spoolScanned: Bool, listening: Bool, sent: Bool), Bool>) {
        let send = readiness.withLock { state in
            state[keyPath: part] = true
            guard state.spoolScanned, state.listening, !state.sent else { return false }
            state.sent = true
            return true
        }
        guard send else { return }
        let summary = (try? store.summary()) ?? Summary()
        let status = Daemon.status(summary, backlog: 0)
        notifier.ready(status: status)
        logger.notice("ready: \(status)", metadata: JournalEvent.ready.metadata())
    }

    static func ensureParentDirectory(of path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        guard !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) else { return }
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    }

    /// One line for systemctl status.
    static func status(_ summary: Summary, backlog: Int) -> String {
        "applied \(summary.messages.applied), duplicates \(summary.messages.duplicates), rejected \(summary.messages.rejected); \(summary.workplaces) workplaces, \(summary.striking) striking"
            + (backlog > 0 ? "; \(backlog) files waiting to be complete" : "")
    }

    func run() async throws {
        let settings = config.withLock { $0 }
        logger.notice("started: spool \(settings.spool), database \(settings.database)", metadata: JournalEvent.started.metadata([
            "spool": "\(settings.spool)", "database": "\(settings.database)",
        ]))
        // Which origins' messages can pass: a key filed under a wrong name
        // shows here, not only as messages failing their signatures.
        logger.notice("keyring \(settings.keyring) (signatures \(settings.signatures.rawValue)): \(SignatureSetup.describe(signatures.rules))", metadata: ["keyring": "\(settings.keyring)"])
        let group = ServiceGroup(
            services: [
                SpoolRunner(spool: spool, notifier: notifier, logger: logger), server, ReadyRunner(daemon: self),
                ReloadRunner(daemon: self), WatchdogRunner(daemon: self),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: Logger(label: "strikecd.lifecycle", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        do {
            try await group.run()
        } catch {
            // A service failed (the others were stopped first, the transaction
            // in flight finished): say why, and exit non-zero so that systemd
            // and scripts see it.
            closeStore()
            notifier.stopping(status: "failed: \(error)")
            logger.critical("stopped: \(error)", metadata: JournalEvent.stopped.metadata(["reason": "\(error)"]))
            throw DaemonError("\(error)")
        }
        closeStore()
        logger.notice("stopped", metadata: JournalEvent.stopped.metadata())
    }

    /// Every service has stopped: close the database, which folds its WAL
    /// into the file (Store.close). Failing that changes nothing that
    /// matters: the next start reads the WAL as it is.
    private func closeStore() {
        do {
            try store.close()
        } catch {
            logger.warning("the database was not closed cleanly (\(error.detail)); its -wal file is read at the next start",
                           metadata: ["database": "\(store.path)"])
        }
    }

    /// SIGHUP: re-read the configuration; apply what can change while running.
    func reload() {
        notifier.reloading(status: "reloading the configuration")
        defer { notifier.ready(status: "configuration reloaded") }
        logger.notice("reloading the configuration", metadata: JournalEvent.reloading.metadata())
        let fresh: DaemonConfig
        do {
            fresh = try overrides.load()
        } catch {
            logger.error("configuration not reloaded, keeping the running one: \(error)", metadata: JournalEvent.configError.metadata([
                "file": "\(error.file)", "reason": "\(error.message)",
            ]))
            return
        }
        let rules: SignatureRules
        do {
            let (loaded, warnings) = try SignatureSetup.rules(policy: fresh.signatures, keyring: fresh.keyring)
            for warning in warnings {
                logger.warning("\(warning)", metadata: JournalEvent.configError.metadata(["file": "\(fresh.keyring)"]))
            }
            rules = loaded
        } catch {
            logger.error("configuration not reloaded, keeping the running one and its keyring: \(error)", metadata: JournalEvent.configError.metadata([
                "file": "\(error.file)", "reason": "\(error.message)",
            ]))
            return
        }
        signatures.rules = rules
        let old = config.withLock { current in
            let old = current
            current = fresh
            return old
        }
        let needRestart: [(String, String, String)] = [
            ("spool", old.spool, fresh.spool), ("database", old.database, fresh.database), ("socket", old.socket, fresh.socket),
            ("query_group", old.queryGroup, fresh.queryGroup), ("admin_group", old.adminGroup, fresh.adminGroup),
            ("max_connections", "\(old.maxConnections)", "\(fresh.maxConnections)"),
            ("max_connections_per_user", "\(old.maxConnectionsPerUser)", "\(fresh.maxConnectionsPerUser)"),
            ("max_request_size", "\(old.maxRequestSize)", "\(fresh.maxRequestSize)"),
            ("request_timeout", "\(old.requestTimeout)", "\(fresh.requestTimeout)"),
        ]
        for (key, before, after) in needRestart where before != after {
            logger.warning("\(key) changed from \(before) to \(after); restart strikecd to use it", metadata: JournalEvent.reloaded.metadata())
        }
        let level = fixedLogLevel ?? Logger.Level(rawValue: fresh.logLevel) ?? StrikeLogging.level.value
        let previous = StrikeLogging.level.value
        if level != previous {
            // Said while the more verbose of the two levels is in effect, so
            // that a notice of it gets through either way.
            if level < previous { StrikeLogging.level.value = level }
            logger.notice("log level changed from \(previous) to \(level)", metadata: JournalEvent.reloaded.metadata())
            StrikeLogging.level.value = level
        }
        var spoolSettings = fresh.spoolSettings(signatures: rules)
        // Federation is set up at start; a reload keeps it (strikecd.yaml(5): restart).
        spoolSettings.processor.federation = federation
        spool.update(spoolSettings)
        // New scopes move the state now, not at the spool's next transaction
        // (which would do it too, being under the new settings already).
        do {
            let (messages, subjects) = try store.adoptScopes(rules.speakers, now: Sys.now())
            if messages > 0 || subjects > 0 {
                logger.notice("the keyring's scopes changed: \(messages) applied messages moved in or out of scope; \(subjects) subjects worked out again", metadata: JournalEvent.rescoped.metadata([
                    "messages": "\(messages)", "subjects": "\(subjects)",
                ]))
            }
        } catch {
            // The spool's next transaction adopts them.
            logger.warning("the new scopes are not in effect yet (\(error.detail)); the spool's next transaction brings them", metadata: JournalEvent.retrying.metadata())
        }
        spool.requestRescan()
        logger.notice("configuration reloaded (signatures \(fresh.signatures.rawValue), keyring: \(SignatureSetup.describe(rules))); rescanning the spool", metadata: JournalEvent.reloaded.metadata())
    }
}

/// A monotonic timestamp shared between the spool thread and the watchdog.
final class Heartbeat: Sendable {
    private let last = Atomic<UInt64>(Sys.monotonicNanoseconds())

    func beat() { last.store(Sys.monotonicNanoseconds(), ordering: .relaxed) }

    /// Nanoseconds since the last beat.
    var age: UInt64 { Sys.monotonicNanoseconds() &- last.load(ordering: .relaxed) }
}

struct DaemonError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The spool loop as a lifecycle service: a graceful shutdown asks it to
/// finish the batch in flight.
struct SpoolRunner: Service {
    let spool: SpoolService
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await spool.run()
            } onGracefulShutdown: {
                notifier.stopping(status: "finishing the transaction in flight")
                logger.notice("stopping: finishing the transaction in flight", metadata: JournalEvent.stopping.metadata())
                spool.requestStop()
            }
        } onCancel: {
            // The group is cancelled when another service fails (the server
            // cannot bind its socket): the loop runs on a thread of its own,
            // which only a stop request ends. Without this the daemon would
            // wait for ever, unready, with SIGTERM no longer heard.
            spool.requestStop()
        }
    }
}

/// Pings systemd's watchdog (WatchdogSec=) only while the spool loop shows
/// signs of life and the server's event loops run: a wedged loop of either
/// kind stops the pings and systemd restarts us.
struct WatchdogRunner: Service {
    let daemon: Daemon

    func run() async throws {
        guard let interval = daemon.notifier.watchdogPingInterval else {
            // No watchdog: wait for shutdown without holding anything up.
            try? await gracefulShutdown()
            return
        }
        let limit = UInt64(interval.components.seconds) * 1_000_000_000 + UInt64(interval.components.attoseconds / 1_000_000_000)
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let age = daemon.heartbeat.age
            // Serving counts too: every event loop of the Varlink server must run
            // a no-op. A wedged loop never answers, so the pings stop.
            for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
                try? await loop.submit {}.get()
            }
            if age < limit {
                daemon.notifier.watchdog()
            } else {
                daemon.logger.warning("the spool loop has shown no sign of life for \(age / 1_000_000_000) s; not pinging the watchdog", metadata: JournalEvent.spoolError.metadata())
            }
            // A graceful shutdown must not wait out the interval (15 s with WatchdogSec=30s):
            // every stop would take that long.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}

/// Waits for the socket to listen, for READY=1; then for shutdown.
struct ReadyRunner: Service {
    let daemon: Daemon

    func run() async throws {
        try await daemon.server.waitUntilListening()
        daemon.becameReady(\.listening)
        try? await gracefulShutdown()
    }
}

/// Turns SIGHUP into reloads until shutdown.
struct ReloadRunner: Service {
    let daemon: Daemon

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            daemon.reload()
        }
    }
}
