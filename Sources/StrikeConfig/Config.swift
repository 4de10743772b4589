import Foundation
import StrikeCore
import Yams

/// The daemon's settings. Built-in defaults, overridden by the configuration
/// file, overridden by command-line flags (in that order).
public struct DaemonConfig: Sendable, Equatable {
    /// The spool directory (with incoming/, tmp/, quarantine/).
    public var spool = "/var/spool/strikecd"
    /// The SQLite database.
    public var database = "/var/lib/strikecd/state.sqlite"
    /// The Varlink socket the daemon binds when systemd passes none.
    public var socket = "/run/strikecd/socket"
    /// A file that does not parse yet is retried while younger than this.
    public var gracePeriod: Double = 5
    /// Files larger than this are quarantined unread.
    public var maxFileSize: Int64 = 256 << 20
    /// Copies per transaction (group commit).
    public var batchSize = 10_000
    /// How far `sent_at` may be ahead of the clock, in seconds.
    public var maxFutureSkew: Int64 = 15 * 60
    /// Which messages must be signed. `required` by default: a forged message
    /// can get people arrested, and nothing is lost by refusing one (it waits
    /// in quarantine until its origin's key is in the keyring and it is requeued).
    public var signatures: SignaturePolicy = .required
    /// The directory of origins' public keys, `ORIGIN.pub` files.
    public var keyring = "/etc/strikecd/keys"
    /// Full rescan of the spool this often, in seconds (inotify is only a hint).
    public var rescanInterval: Double = 60
    /// Members may use org.strikecd.Query.
    public var queryGroup = "strikecd"
    /// Members may use org.strikecd.Admin.
    public var adminGroup = "strikecd-admin"
    /// Varlink limits.
    public var maxConnections = 256
    public var maxConnectionsPerUser = 32
    public var maxRequestSize = 1 << 20
    public var requestTimeout: Double = 10
    /// Close a connection idle this long (Watch streams aside); 0: never.
    public var idleTimeout: Double = 300
    /// trace, debug, info, notice, warning, error, critical.
    public var logLevel = "info"
    /// This node's name in its reports to peers; `none` (the default): no peers.
    public var node = DaemonConfig.noNode
    /// The neighbours this node sends its accepted copies to.
    public var peers: [PeerConfig] = []
    /// Directories read like the spool, exactly once, never deleted from.
    public var inboxes: [InboxConfig] = []
    /// Where `nncp:` peers' batches are written, one directory per peer.
    public var outboxDirectory = "/var/lib/strikecd/outbox"
    /// Each peer is told what this node holds and lacks this often, in
    /// seconds, besides with every batch; 0: only with batches.
    public var gapReportInterval: Double = 600

    public init() {}

    /// Where the daemon looks when no --config is given.
    public static let defaultPath = "/etc/strikecd/strikecd.yaml"
}

/// A problem with the configuration, naming the file, line and key.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let key: String?
    public let message: String

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let key { text += "\(key): " }
        return text + message
    }
}

extension DaemonConfig {
    struct Setting: Sendable {
        let key: String
        let help: String
        let apply: @Sendable (inout DaemonConfig, Node, String) throws(ConfigError) -> Void
    }

    /// The names of every setting, in the order of the shipped file.
    public static var settingNames: [String] { settings.map(\.key) }

    /// Every setting the file may contain, in the order of the shipped file.
    static let settings: [Setting] = [
        Setting(key: "spool", help: "a directory path") { c, n, f throws(ConfigError) in c.spool = try path(n, f, "spool") },
        Setting(key: "database", help: "a file path") { c, n, f throws(ConfigError) in c.database = try path(n, f, "database") },
        Setting(key: "socket", help: "a socket path") { c, n, f throws(ConfigError) in c.socket = try path(n, f, "socket") },
        Setting(key: "grace_period", help: "a duration") { c, n, f throws(ConfigError) in c.gracePeriod = try duration(n, f, "grace_period") },
        Setting(key: "max_file_size", help: "a size") { c, n, f throws(ConfigError) in c.maxFileSize = try size(n, f, "max_file_size", minimum: 64 << 10) },
        Setting(key: "batch_size", help: "a count") { c, n, f throws(ConfigError) in c.batchSize = Int(try integer(n, f, "batch_size", 1...100_000)) },
        Setting(key: "max_future_skew", help: "a duration") { c, n, f throws(ConfigError) in c.maxFutureSkew = Int64(try duration(n, f, "max_future_skew")) },
        Setting(key: "signatures", help: "off, optional or required") { c, n, f throws(ConfigError) in
            let text = try string(n, f, "signatures")
            guard let policy = SignaturePolicy(rawValue: text) else {
                throw ConfigError(file: f, line: n.mark?.line, key: "signatures", message: "must be required, optional or off (got \"\(text)\")")
            }
            c.signatures = policy
        },
        Setting(key: "keyring", help: "a directory path") { c, n, f throws(ConfigError) in c.keyring = try path(n, f, "keyring") },
        Setting(key: "rescan_interval", help: "a duration") { c, n, f throws(ConfigError) in c.rescanInterval = max(1, try duration(n, f, "rescan_interval")) },
        Setting(key: "query_group", help: "a group name") { c, n, f throws(ConfigError) in c.queryGroup = try string(n, f, "query_group") },
        Setting(key: "admin_group", help: "a group name") { c, n, f throws(ConfigError) in c.adminGroup = try string(n, f, "admin_group") },
        Setting(key: "max_connections", help: "a count") { c, n, f throws(ConfigError) in c.maxConnections = Int(try integer(n, f, "max_connections", 1...65536)) },
        Setting(key: "max_connections_per_user", help: "a count") { c, n, f throws(ConfigError) in c.maxConnectionsPerUser = Int(try integer(n, f, "max_connections_per_user", 1...65536)) },
        Setting(key: "max_request_size", help: "a size") { c, n, f throws(ConfigError) in c.maxRequestSize = Int(try size(n, f, "max_request_size", minimum: 4096)) },
        Setting(key: "request_timeout", help: "a duration") { c, n, f throws(ConfigError) in c.requestTimeout = try duration(n, f, "request_timeout") },
        Setting(key: "idle_timeout", help: "a duration") { c, n, f throws(ConfigError) in c.idleTimeout = try duration(n, f, "idle_timeout") },
        Setting(key: "log_level", help: "a level") { c, n, f throws(ConfigError) in
            let level = try string(n, f, "log_level")
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains(level) else {
                throw ConfigError(file: f, line: n.mark?.line, key: "log_level", message: "must be one of \(levels.joined(separator: ", ")) (got \"\(level)\")")
            }
            c.logLevel = level
        },
        Setting(key: "node", help: "this node's name") { c, n, f throws(ConfigError) in c.node = try node(n, f) },
        Setting(key: "peers", help: "a list of peers") { c, n, f throws(ConfigError) in c.peers = try peers(n, f) },
        Setting(key: "inboxes", help: "a list of directories") { c, n, f throws(ConfigError) in c.inboxes = try inboxes(n, f) },
        Setting(key: "outbox_directory", help: "a directory path") { c, n, f throws(ConfigError) in c.outboxDirectory = try path(n, f, "outbox_directory") },
        Setting(key: "gap_report_interval", help: "a duration") { c, n, f throws(ConfigError) in
            let seconds = try duration(n, f, "gap_report_interval")
            guard seconds == 0 || seconds >= 1 else {
                throw ConfigError(file: f, line: n.mark?.line, key: "gap_report_interval", message: "must be 0 (only with batches) or at least 1s (got \(seconds)s)")
            }
            c.gapReportInterval = seconds
        },
    ]

    /// Reads a configuration file over the built-in defaults.
    ///
    /// - Parameter allowMissing: a missing file gives the defaults (for the
    ///   default path); a file named on the command line must exist.
    public static func load(file: String, allowMissing: Bool) throws(ConfigError) -> DaemonConfig {
        if allowMissing, !FileManager.default.fileExists(atPath: file) { return DaemonConfig() }
        // Not String(contentsOfFile:): on an empty file (all defaults, a valid
        // configuration) it leaks its 4 KiB buffer (LeakSanitizer, Swift 6.3).
        let data: Data?
        do {
            guard let handle = FileHandle(forReadingAtPath: file) else {
                throw CocoaError(FileManager.default.fileExists(atPath: file) ? .fileReadNoPermission : .fileReadNoSuchFile)
            }
            defer { try? handle.close() }
            data = try handle.readToEnd()
        } catch {
            throw ConfigError(file: file, line: nil, key: nil, message: "cannot read the configuration file: \((error as NSError).localizedDescription)")
        }
        guard let text = String(validating: data ?? Data(), as: UTF8.self) else {
            throw ConfigError(file: file, line: nil, key: nil, message: "cannot read the configuration file: it is not UTF-8 text")
        }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> DaemonConfig {
        var config = DaemonConfig()
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            if case .duplicatedKeysInMapping(let duplicates, _) = error, let key = duplicates.first {
                // Name the line where the setting appears the second time.
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                let second = lines.indices.filter { lines[$0].hasPrefix(key + ":") }.dropFirst().first
                throw ConfigError(file: file, line: second.map { $0 + 1 }, key: key, message: "set twice; keep one line")
            }
            throw ConfigError(file: file, line: Self.line(of: error), key: nil, message: "not valid YAML: \(Self.problem(of: error))")
        } catch {
            throw ConfigError(file: file, line: nil, key: nil, message: "not valid YAML: \(error)")
        }
        guard let root else { return config }  // an empty file: all defaults
        guard case .mapping(let mapping) = root else {
            throw ConfigError(file: file, line: root.mark?.line, key: nil, message: "the file must be a list of `key: value` settings")
        }
        var seen = Set<String>()
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.string else {
                throw ConfigError(file: file, line: keyNode.mark?.line, key: nil, message: "a setting's name must be a plain word")
            }
            guard let setting = settings.first(where: { $0.key == key }) else {
                let suggestion = settings.map(\.key).min { editDistance($0, key) < editDistance($1, key) }
                let hint = suggestion.flatMap { editDistance($0, key) <= 3 ? " (did you mean \"\($0)\"?)" : nil } ?? ""
                throw ConfigError(file: file, line: keyNode.mark?.line, key: key, message: "unknown setting\(hint); see strikecd.yaml(5) for the list")
            }
            guard seen.insert(key).inserted else {
                throw ConfigError(file: file, line: keyNode.mark?.line, key: key, message: "set twice")
            }
            if case .scalar(let scalar) = valueNode, scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null" {
                throw ConfigError(file: file, line: valueNode.mark?.line ?? keyNode.mark?.line, key: key, message: "has no value; give \(setting.help) or remove the line to use the default")
            }
            try setting.apply(&config, valueNode, file)
        }
        try config.checkFederation(file: file)
        return config
    }

    // MARK: - Value parsers

    static func string(_ node: Node, _ file: String, _ key: String) throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else {
            throw ConfigError(file: file, line: node.mark?.line, key: key, message: "must be a single value")
        }
        return scalar.string
    }

    static func path(_ node: Node, _ file: String, _ key: String) throws(ConfigError) -> String {
        let text = try string(node, file, key)
        if text.hasPrefix("/") { return text }
        // Relative paths are relative to the configuration file's directory,
        // so a local layout (./var/…) works from anywhere.
        var base = (file as NSString).deletingLastPathComponent
        if !base.hasPrefix("/") {
            base = (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(base)
        }
        return ((base as NSString).appendingPathComponent(text) as NSString).standardizingPath
    }

    static func integer(_ node: Node, _ file: String, _ key: String, _ range: ClosedRange<Int64>) throws(ConfigError) -> Int64 {
        let text = try string(node, file, key).replacingOccurrences(of: "_", with: "")
        guard let value = Int64(text), range.contains(value) else {
            throw ConfigError(file: file, line: node.mark?.line, key: key, message: "must be a whole number from \(range.lowerBound) to \(range.upperBound) (got \"\(text)\")")
        }
        return value
    }

    /// `5`, `5s`, `500ms`, `15min`, `2h`: seconds.
    static func duration(_ node: Node, _ file: String, _ key: String) throws(ConfigError) -> Double {
        let text = try string(node, file, key).trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("min", 60), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        var number = text
        var factor = 1.0
        for (suffix, value) in units where text.hasSuffix(suffix) {
            number = String(text.dropLast(suffix.count)).trimmingCharacters(in: .whitespaces)
            factor = value
            break
        }
        // Bounded (ten years) so conversions to whole seconds cannot overflow.
        guard let value = Double(number), value >= 0, value.isFinite, value * factor <= 315_360_000 else {
            throw ConfigError(file: file, line: node.mark?.line, key: key, message: "must be a duration such as 5s, 500ms, 15min or 2h (got \"\(text)\")")
        }
        return value * factor
    }

    /// `65536`, `64KiB`, `256MiB`, `1GiB`: bytes.
    static func size(_ node: Node, _ file: String, _ key: String, minimum: Int64) throws(ConfigError) -> Int64 {
        let text = try string(node, file, key).trimmingCharacters(in: .whitespaces)
        let units: [(String, Int64)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("B", 1)]
        var number = text
        var factor: Int64 = 1
        for (suffix, value) in units where text.hasSuffix(suffix) {
            number = String(text.dropLast(suffix.count)).trimmingCharacters(in: .whitespaces)
            factor = value
            break
        }
        guard let value = Int64(number), value >= 0, value <= Int64.max / factor, value * factor >= minimum else {
            throw ConfigError(file: file, line: node.mark?.line, key: key, message: "must be a size of at least \(minimum) bytes, such as 64KiB or 256MiB (got \"\(text)\")")
        }
        return value * factor
    }

    static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }

    static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): problem
        case .duplicatedKeysInMapping(let duplicates, _): "a setting appears twice: \(duplicates.joined(separator: ", "))"
        default: "\(error)"
        }
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
