import ArgumentParser
import Foundation
import Logging
import StrikeJournal
import ServiceLifecycle
import StrikeConfig
import StrikeCore
import StrikeOS
import StrikeSigning
import StrikeSpool
import StrikeStore
import UnixSignals

/// Where logs go.
enum LogTarget: String, ExpressibleByArgument, CaseIterable {
    case auto, console, journal
}

/// Options shared by `run` and `check-config`: flags override the file, the
/// file overrides the built-in defaults.
struct DaemonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The configuration file (default \(DaemonConfig.defaultPath); a missing default file means built-in defaults).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("The spool directory.", valueName: "dir"))
    var spool: String?

    @Option(name: .long, help: ArgumentHelp("The SQLite database.", valueName: "file"))
    var database: String?

    @Option(name: .long, help: ArgumentHelp("The Varlink socket to bind when systemd passes none.", valueName: "path"))
    var socket: String?

    func load() throws(ConfigError) -> DaemonConfig {
        var config = try DaemonConfig.load(file: self.config ?? DaemonConfig.defaultPath, allowMissing: self.config == nil)
        if let spool { config.spool = spool }
        if let database { config.database = database }
        if let socket { config.socket = socket }
        return config
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon in the foreground (the default).",
        discussion: """
            Watches SPOOL/incoming/ and reconciles every file dropped there into the
            database exactly once; rejected copies go to SPOOL/quarantine/ with a reason
            file (.NAME.reason) beside them. SIGTERM or SIGINT finishes the transaction in flight and
            exits 0; SIGHUP re-reads the configuration and rescans the spool.
            """
    )

    @OptionGroup var options: DaemonOptions

    @Option(name: .long, help: "Where logs go: auto (the journal under systemd, else stderr), console or journal.")
    var log: LogTarget = .auto

    @Option(name: .long, help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical (overrides log_level).", valueName: "level"))
    var logLevel: String?

    func run() async throws {
        // Before the first large buffer: the daemon's idle memory depends on it.
        Sys.fixMmapThreshold()
        let config: DaemonConfig
        do {
            config = try options.load()
        } catch {
            Console.error("configuration: \(error)")
            throw ExitCode(78)  // EX_CONFIG
        }
        guard let level = Logger.Level(rawValue: logLevel ?? config.logLevel) else {
            Console.error("--log-level must be one of trace, debug, info, notice, warning, error, critical (got \"\(logLevel ?? "")\")")
            throw ExitCode(64)
        }
        let signatures: SignatureRules
        let keyringWarnings: [String]
        do {
            (signatures, keyringWarnings) = try SignatureSetup.rules(policy: config.signatures, keyring: config.keyring)
        } catch {
            Console.error("keyring: \(error)")
            throw ExitCode(78)  // EX_CONFIG
        }
        LoggingSetup.bootstrap(target: log, level: level)
        // Its level is the process-wide one, which a reload can change.
        let logger = Logger(label: "strikecd")
        for keyringWarning in keyringWarnings {
            logger.warning("\(keyringWarning)", metadata: JournalEvent.configError.metadata(["file": "\(config.keyring)"]))
        }

        let daemon: Daemon
        do {
            daemon = try Daemon(
                config: config, signatures: signatures, configFile: options.config, overrides: options,
                fixedLogLevel: logLevel == nil ? nil : level, logger: logger)
        } catch {
            logger.critical("cannot start: \(error)", metadata: JournalEvent.configError.metadata(["reason": "\(error)"]))
            throw ExitCode.failure
        }
        do {
            try await daemon.run()
        } catch {
            // Logged by the daemon already.
            throw ExitCode.failure
        }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check the configuration file and print the settings in effect, without starting.",
        discussion: "Also reads the keyring. Exit status: 0 when the configuration and the keyring are valid, 78 when either is not (the message names the file, line and key)."
    )

    @OptionGroup var options: DaemonOptions

    func run() throws {
        let config: DaemonConfig
        do {
            config = try options.load()
        } catch {
            Console.error("configuration: \(error)")
            throw ExitCode(78)
        }
        let signatures: SignatureRules
        do {
            let (rules, warnings) = try SignatureSetup.rules(policy: config.signatures, keyring: config.keyring)
            for warning in warnings { Console.warning(warning) }
            signatures = rules
        } catch {
            Console.error("keyring: \(error)")
            throw ExitCode(78)
        }
        let source = options.config ?? DaemonConfig.defaultPath
        Console.info("keyring \(config.keyring): \(SignatureSetup.describe(signatures))")
        if options.config == nil, !FileManager.default.fileExists(atPath: source) {
            Console.info("no configuration file at \(source): the built-in defaults are in effect:")
        } else {
            Console.info("configuration \(source) is valid; the settings in effect:")
        }
        for (key, value) in config.described {
            Console.line("\(key): \(value)")
        }
        for line in SignatureSetup.describeScopes(signatures) {
            Console.line(line)
        }
    }
}

extension DaemonConfig {
    /// Every setting with its effective value, in the file's order.
    var described: [(String, String)] {
        [
            ("spool", spool), ("database", database), ("socket", socket),
            ("grace_period", "\(gracePeriod)s"), ("max_file_size", "\(maxFileSize)"), ("batch_size", "\(batchSize)"),
            ("max_future_skew", "\(maxFutureSkew)s"), ("signatures", signatures.rawValue), ("keyring", keyring),
            ("rescan_interval", "\(rescanInterval)s"),
            ("query_group", queryGroup), ("admin_group", adminGroup),
            ("max_connections", "\(maxConnections)"), ("max_connections_per_user", "\(maxConnectionsPerUser)"),
            ("max_request_size", "\(maxRequestSize)"), ("request_timeout", "\(requestTimeout)s"), ("log_level", logLevel),
            ("node", node),
            // Flow-style YAML, one line each: what the file says, checked.
            ("peers", "[" + peers.map { peer in
                let transport = switch peer.transport {
                case .nncp(let node): "nncp: \(node)" + (peer.nncpID.map { ", nncp_id: \($0)" } ?? "")
                case .outbox(let directory): "outbox: \(directory)"
                }
                return "{name: \(peer.name), \(transport), send: [\(peer.send.map { "\"\($0)\"" }.joined(separator: ", "))]}"
            }.joined(separator: ", ") + "]"),
            ("inboxes", "[" + inboxes.map { inbox in
                inbox.from.map { "{path: \(inbox.path), from: \($0)}" } ?? inbox.path
            }.joined(separator: ", ") + "]"),
            ("outbox_directory", outboxDirectory), ("gap_report_interval", "\(gapReportInterval)s"),
        ]
    }

    func spoolSettings(signatures: SignatureRules) -> SpoolService.Settings {
        var processor = SpoolProcessor.Settings()
        processor.signatures = signatures
        processor.batchSize = batchSize
        processor.gracePeriod = Int64(gracePeriod.rounded(.up))
        processor.maximumFutureSkew = maxFutureSkew
        processor.limits = FileLimits(maximumFileBytes: maxFileSize)
        processor.federation = federationSettings
        return SpoolService.Settings(processor: processor, rescanInterval: rescanInterval)
    }

    /// What the spool loop needs of node, peers, inboxes and
    /// gap_report_interval; nil when there are neither peers nor inboxes.
    var federationSettings: FederationSettings? {
        guard !peers.isEmpty || !inboxes.isEmpty else { return nil }
        return FederationSettings(
            node: node,
            peers: peers.map { peer in
                FederationSettings.Peer(
                    name: peer.name, outbox: outboxDirectory(for: peer), nncpSender: peer.nncpSender,
                    origins: peer.send.contains(.all) ? nil : Set(peer.send.compactMap { if case .origin(let o) = $0 { o } else { nil } }),
                    scopes: peer.send.compactMap { if case .scope(let scope) = $0 { scope } else { nil } })
            },
            inboxes: inboxes.map { FederationSettings.Inbox(path: $0.path, from: $0.from) },
            gapReportInterval: gapReportInterval)
    }
}
