import Logging

/// What both of strikecd's log handlers keep besides where they write: a
/// level of their own (if one was set), metadata, and a metadata provider.
struct HandlerSettings: Sendable {
    /// Set by `logger.logLevel = …`; nil follows the process-wide
    /// ``StrikeLogging/level``, which a reload can change.
    var ownLevel: Logger.Level?
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
}

/// A log handler whose level, metadata and provider live in `settings`.
protocol SettingsLogHandler: LogHandler {
    var settings: HandlerSettings { get set }
}

extension SettingsLogHandler {
    public var logLevel: Logger.Level {
        get { settings.ownLevel ?? StrikeLogging.level.value }
        set { settings.ownLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { settings.metadata }
        set { settings.metadata = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { settings.metadataProvider }
        set { settings.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { settings.metadata[key] }
        set { settings.metadata[key] = newValue }
    }

    /// The handler's metadata, then the provider's, then the event's; later wins.
    func mergedMetadata(_ event: LogEvent) -> Logger.Metadata {
        MetadataText.merged(handler: settings.metadata, provider: settings.metadataProvider, event: event.metadata)
    }
}
