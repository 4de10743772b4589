// JournalLogHandler: swift-log events to the systemd journal, native protocol.
//
// SECURITY
//   What is logged is the caller's choice, and callers must never put message bodies,
//   delegates' notes or other content from spool files above debug level (docs/design.md, "The journal"):
//   journals are kept, forwarded and read by people who may not see the committee's data.
//   Identifiers (origin, seq, type, file name, reason codes) are fine at any level.
//   This handler treats metadata keys and values as untrusted text: keys are sanitised
//   into valid field names (journald drops invalid ones silently), values are sent with
//   explicit lengths (sd_journal_sendv's binary form when they contain a newline), so
//   nothing in a value can add or forge a field.
//
// DIAGNOSTICS
//   If the journal refuses an entry (no socket, ECONNREFUSED, ENOBUFS…), the line is written
//   to stderr in ConsoleLogHandler's format instead, prefixed with the failure, rather than
//   lost.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSystemd
import Logging

/// A swift-log handler that writes each event to the systemd journal as structured fields.
///
/// Fields of every entry:
/// - `MESSAGE`, `PRIORITY` (trace/debug → 7, info → 6, notice → 5, warning → 4, error → 3,
///   critical → 2), `SYSLOG_IDENTIFIER` (default `strikecd`);
/// - `CODE_FILE`, `CODE_LINE`, `CODE_FUNC` from the call site (C gets these from a macro
///   around `sd_journal_sendv`; Swift calls the plain function, so we add them);
/// - `MESSAGE_ID` when the metadata key `event` names a ``JournalEvent``;
/// - every metadata entry as `STRIKECD_<KEY>` (see ``JournalFieldName``), the `event` entry
///   included as `STRIKECD_EVENT`; nested values as sorted compact JSON;
/// - `STRIKECD_ERROR` with the event's error, if any.
///
/// Use it when the process runs under systemd (``StrikeLogging`` decides); use
/// ``ConsoleLogHandler`` for a terminal. It is a value type: changing the level or metadata
/// of one `Logger` does not affect another.
public struct JournalLogHandler: SettingsLogHandler {
    /// The level (nil: the process-wide one), metadata and provider.
    var settings: HandlerSettings
    /// The swift-log label (not sent; `SYSLOG_IDENTIFIER` names the program).
    public let label: String
    /// The `SYSLOG_IDENTIFIER` field, `strikecd` unless configured (`journalctl -t`).
    public let identifier: String

    public init(
        label: String,
        identifier: String = "strikecd",
        logLevel: Logger.Level? = nil,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.identifier = identifier
        self.settings = HandlerSettings(ownLevel: logLevel, metadataProvider: metadataProvider)
    }

    public func log(event: LogEvent) {
        let merged = mergedMetadata(event)
        let fields = Self.fields(
            level: event.level,
            message: event.message.description,
            metadata: merged,
            error: event.error,
            identifier: identifier,
            file: event.file,
            function: event.function,
            line: event.line
        )
        let result = Self.send(fields)
        if result < 0 {
            // Not lost: say why, then the line itself, on stderr (which systemd usually
            // connects to the journal's stream socket anyway).
            var spec = timespec()
            clock_gettime(CLOCK_REALTIME, &spec)
            let line = ConsoleLogHandler.line(
                time: spec.tv_sec,
                level: event.level,
                message: event.message.description,
                metadata: merged,
                error: event.error
            )
            ConsoleLogHandler.writeLine("journal refused entry (\(errorName(-result))): " + line, to: 2)
        }
    }

    /// The `(name, value)` pairs of one entry, in the order they are sent. Pure.
    static func fields(
        level: Logger.Level,
        message: String,
        metadata: Logger.Metadata,
        error: (any Error)?,
        identifier: String,
        file: String,
        function: String,
        line: UInt
    ) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = [
            ("MESSAGE", message),
            ("PRIORITY", String(priority(level))),
            ("SYSLOG_IDENTIFIER", identifier),
        ]
        if case .string(let raw)? = metadata[JournalEvent.metadataKey], let known = JournalEvent(rawValue: raw) {
            fields.append(("MESSAGE_ID", known.messageID))
        }
        fields.append(("CODE_FILE", file))
        fields.append(("CODE_LINE", String(line)))
        fields.append(("CODE_FUNC", function))
        let names = JournalFieldName.names(forMetadataKeys: metadata.keys)
        for key in metadata.keys.sorted() {
            fields.append((names[key]!, MetadataText.render(metadata[key]!)))
        }
        if let error {
            // After the metadata, so a metadata key "error" keeps STRIKECD_ERROR and the
            // event's error adds a second value of the same field rather than replacing it.
            fields.append((JournalFieldName.prefix + "ERROR", String(describing: error)))
        }
        return fields
    }

    /// syslog priority for a swift-log level.
    static func priority(_ level: Logger.Level) -> Int32 {
        switch level {
        case .trace, .debug: LOG_DEBUG
        case .info: LOG_INFO
        case .notice: LOG_NOTICE
        case .warning: LOG_WARNING
        case .error: LOG_ERR
        case .critical: LOG_CRIT
        }
    }

    /// Sends one entry; returns `sd_journal_sendv`'s result (0, or a negative errno).
    ///
    /// All fields are copied into one buffer and the iovecs point into it, which keeps the
    /// pointers valid for the single call without nesting a closure per field.
    static func send(_ fields: [(name: String, value: String)]) -> Int32 {
        var buffer: [UInt8] = []
        var ranges: [Range<Int>] = []
        buffer.reserveCapacity(fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 1 })
        for field in fields {
            let start = buffer.count
            buffer.append(contentsOf: field.name.utf8)
            buffer.append(UInt8(ascii: "="))
            buffer.append(contentsOf: field.value.utf8)
            ranges.append(start..<buffer.count)
        }
        return buffer.withUnsafeMutableBytes { bytes -> Int32 in
            let base = bytes.baseAddress!
            let vectors = ranges.map { range in
                iovec(iov_base: base + range.lowerBound, iov_len: range.count)
            }
            return vectors.withUnsafeBufferPointer { iov in
                sd_journal_sendv(iov.baseAddress, Int32(iov.count))
            }
        }
    }
}

/// `strerror` text for an errno, for diagnostics.
func errorName(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
