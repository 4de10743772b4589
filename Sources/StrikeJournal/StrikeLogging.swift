#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Synchronization

/// Where the user asked logs to go (`--log auto|console|journal`).
public enum LogMode: String, Sendable, CaseIterable {
    /// The journal when standard error is connected to it (the process runs under systemd),
    /// otherwise the console.
    case auto
    /// Readable lines on standard error.
    case console
    /// The journal's native protocol; falls back to the console, with a warning, when
    /// there is no journal socket.
    case journal
}

/// Where logs actually go, and why not where asked if that is the case.
public struct LogOutput: Sendable, Equatable {
    public enum Destination: String, Sendable, Equatable {
        case console
        case journal
    }

    public var destination: Destination
    /// Set when ``LogMode/journal`` was asked for but cannot be served; one line for a warning.
    public var fallbackReason: String?

    public init(destination: Destination, fallbackReason: String? = nil) {
        self.destination = destination
        self.fallbackReason = fallbackReason
    }

    /// The socket of journald's native protocol.
    public static let journalSocketPath = "/run/systemd/journal/socket"

    /// Decides for this process: reads `JOURNAL_STREAM`, `fstat`s standard error and looks
    /// for the journal socket.
    public static func resolve(mode: LogMode) -> LogOutput {
        resolve(
            mode: mode,
            journalStream: getenv("JOURNAL_STREAM").map { String(cString: $0) },
            standardError: identity(ofFileDescriptor: 2),
            journalSocketExists: isSocket(atPath: journalSocketPath)
        )
    }

    /// The decision itself, pure, for tests.
    ///
    /// `auto` means journal when `JOURNAL_STREAM` (`DEVICE:INODE`, decimal) names the file
    /// standard error is open on: that is how systemd.exec(5) says to detect that stderr is
    /// the journal, as opposed to an inherited variable with stderr redirected elsewhere.
    public static func resolve(
        mode: LogMode,
        journalStream: String?,
        standardError: FileIdentity?,
        journalSocketExists: Bool
    ) -> LogOutput {
        switch mode {
        case .console:
            return LogOutput(destination: .console)
        case .journal:
            guard journalSocketExists else {
                return LogOutput(
                    destination: .console,
                    fallbackReason: "no journal socket at \(journalSocketPath); logging to stderr instead"
                )
            }
            return LogOutput(destination: .journal)
        case .auto:
            guard journalSocketExists,
                let journalStream,
                let stream = FileIdentity(journalStream: journalStream),
                stream == standardError
            else {
                return LogOutput(destination: .console)
            }
            return LogOutput(destination: .journal)
        }
    }

    static func identity(ofFileDescriptor fileDescriptor: Int32) -> FileIdentity? {
        var info = stat()
        guard fstat(fileDescriptor, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    static func isSocket(atPath path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFSOCK
    }
}

/// A file's device and inode numbers, as in `JOURNAL_STREAM`.
public struct FileIdentity: Sendable, Equatable {
    public var device: UInt64
    public var inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    /// Parses `DEVICE:INODE` (both decimal); nil for anything else.
    public init?(journalStream: String) {
        let parts = journalStream.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2,
            parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (48...57).contains($0) } }),
            let device = UInt64(parts[0]),
            let inode = UInt64(parts[1])
        else { return nil }
        self.init(device: device, inode: inode)
    }
}

/// The process-wide log level that handlers follow unless a level was set on
/// them: the daemon changes it when SIGHUP brings a new `log_level`.
public final class LogLevelSetting: Sendable {
    private let raw: Atomic<Int>

    public init(_ level: Logger.Level) {
        raw = Atomic(Self.levels.firstIndex(of: level)!)
    }

    public var value: Logger.Level {
        get { Self.levels[raw.load(ordering: .relaxed)] }
        set { raw.store(Self.levels.firstIndex(of: newValue)!, ordering: .relaxed) }
    }

    private static let levels = Logger.Level.allCases
}

/// The logging set-up for strikecd's executables.
public enum StrikeLogging {
    /// The level of every handler that has none of its own (`bootstrap` sets
    /// it; set it again to change the level of a running process).
    public static let level = LogLevelSetting(.info)

    /// Installs the process-wide log handler. Call it once, first thing in `main`.
    ///
    /// swift-log allows one `LoggingSystem.bootstrap` per process (a second call traps), so
    /// libraries and tests must not call this; tests build handlers directly with
    /// `Logger(label:factory:)` and ``makeHandler(label:output:level:identifier:metadataProvider:)``.
    ///
    /// When ``LogMode/journal`` cannot be served, logs go to the console and a one-line
    /// warning says so. Returns where logs go, for the daemon to mention at start-up.
    @discardableResult
    public static func bootstrap(mode: LogMode, level: Logger.Level, identifier: String = "strikecd") -> LogOutput {
        let output = LogOutput.resolve(mode: mode)
        Self.level.value = level
        LoggingSystem.bootstrap(
            { label, provider in
                makeHandler(
                    label: label,
                    output: output.destination,
                    level: nil,
                    identifier: identifier,
                    metadataProvider: provider
                )
            },
            metadataProvider: nil
        )
        if let reason = output.fallbackReason {
            Logger(label: "strikecd.logging").warning("\(reason)")
        }
        return output
    }

    /// A handler for `output`; for tests and for programs that do not bootstrap.
    ///
    /// - Parameter level: the handler's own level; nil follows ``level``.
    public static func makeHandler(
        label: String,
        output: LogOutput.Destination,
        level: Logger.Level?,
        identifier: String = "strikecd",
        metadataProvider: Logger.MetadataProvider? = nil
    ) -> any LogHandler {
        switch output {
        case .console:
            ConsoleLogHandler(label: label, logLevel: level, metadataProvider: metadataProvider)
        case .journal:
            JournalLogHandler(label: label, identifier: identifier, logLevel: level, metadataProvider: metadataProvider)
        }
    }
}
