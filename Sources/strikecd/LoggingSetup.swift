import Logging
import StrikeJournal

/// Chooses where logs go, once per process.
enum LoggingSetup {
    static func bootstrap(target: LogTarget, level: Logger.Level) {
        let mode = LogMode(rawValue: target.rawValue) ?? .auto
        StrikeLogging.bootstrap(mode: mode, level: level)
    }
}
