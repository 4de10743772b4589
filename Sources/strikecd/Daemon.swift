import Logging
import ServiceLifecycle
import StrikeConfig
import StrikeCore
import StrikeOS
import StrikeSpool
import StrikeStore
import Synchronization
import UnixSignals

/// The running daemon: wires the store, the spool loop, signals and (later)
/// the Varlink server and systemd notifications. Owns no logic of its own.
final class Daemon: Sendable {
    let config: Mutex<DaemonConfig>
    let configFile: String?
    let overrides: DaemonOptions
    let logger: Logger
    let store: Store
    let layout: SpoolLayout
    let spool: SpoolService

    init(config: DaemonConfig, configFile: String?, overrides: DaemonOptions, logger: Logger) throws {
        self.config = Mutex(config)
        self.configFile = configFile
        self.overrides = overrides
        self.logger = logger
        do {
            // Short: the spool loop retries with back-off, and a long wait would
            // hold up shutdown.
            store = try Store(path: config.database, busyTimeout: 5)
        } catch {
            throw DaemonError("cannot open the database \(config.database): \(error.detail)")
        }
        do {
            layout = try SpoolLayout(root: config.spool)
        } catch {
            throw DaemonError("cannot use the spool \(config.spool): \(error)")
        }
        var hooks = SpoolService.Hooks()
        let readyLogger = logger
        let storeForStatus = store
        hooks.ready = {
            let summary = (try? storeForStatus.summary()) ?? Summary()
            readyLogger.notice("ready: \(summary.messages.applied) messages applied, \(summary.messages.rejected) rejected", metadata: ["event": "ready"])
        }
        spool = try SpoolService(layout: layout, store: store, settings: config.spoolSettings, logger: logger, hooks: hooks)
    }

    func run() async throws {
        let settings = config.withLock { $0 }
        logger.notice("started: spool \(settings.spool), database \(settings.database)", metadata: [
            "event": "started", "spool": "\(settings.spool)", "database": "\(settings.database)",
        ])
        let group = ServiceGroup(
            services: [SpoolRunner(spool: spool), ReloadRunner(daemon: self)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: Logger(label: "strikecd.lifecycle", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        try await group.run()
        logger.notice("stopped", metadata: ["event": "stopped"])
    }

    /// SIGHUP: re-read the configuration; apply what can change while running.
    func reload() {
        logger.notice("reloading the configuration", metadata: ["event": "reloading"])
        let fresh: DaemonConfig
        do {
            fresh = try overrides.load()
        } catch {
            logger.error("configuration not reloaded, keeping the running one: \(error)", metadata: ["event": "configError"])
            return
        }
        let old = config.withLock { current in
            let old = current
            current = fresh
            return old
        }
        for (key, before, after) in [("spool", old.spool, fresh.spool), ("database", old.database, fresh.database), ("socket", old.socket, fresh.socket)] where before != after {
            logger.warning("\(key) changed from \(before) to \(after); restart strikecd to use it", metadata: ["event": "reloaded"])
        }
        spool.update(fresh.spoolSettings)
        spool.requestRescan()
        logger.notice("configuration reloaded; rescanning the spool", metadata: ["event": "reloaded"])
    }
}

struct DaemonError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The spool loop as a lifecycle service: a graceful shutdown asks it to
/// finish the batch in flight.
struct SpoolRunner: Service {
    let spool: SpoolService

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await spool.run()
        } onGracefulShutdown: {
            spool.requestStop()
        }
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
