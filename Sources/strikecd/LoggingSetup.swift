import Logging

/// Chooses where logs go, once per process.
enum LoggingSetup {
    static func bootstrap(target: LogTarget, level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
