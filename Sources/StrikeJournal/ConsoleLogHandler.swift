#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// A swift-log handler that writes one readable line per event to standard error:
///
///     2026-11-29T10:00:00Z notice quarantined x.json: line=3 reason=json
///
/// Time in UTC to the second, level, message, then the metadata as `key=value` sorted by key
/// (the `event` key is left out: the message says what happened, and `MESSAGE_ID` is journal
/// business). Values with spaces, quotes, `=` or control characters are JSON-quoted, and
/// control characters in the message are escaped, so one event is always exactly one line:
/// a file name with a newline in it cannot forge a second log line.
///
/// Use it outside systemd, or with `--log console`. Under systemd use ``JournalLogHandler``;
/// ``StrikeLogging/bootstrap(mode:level:identifier:)`` chooses between the two.
///
/// Thread safety: each line goes out in one `write(2)` (looping only on a short write or
/// EINTR), so lines from many threads do not interleave as long as they fit in `PIPE_BUF`
/// (4096 bytes) on a pipe; a terminal or file is not split in practice either.
public struct ConsoleLogHandler: SettingsLogHandler {
    /// The level (nil: the process-wide one), metadata and provider.
    var settings: HandlerSettings
    /// The swift-log label; not printed (lines stay short), kept for symmetry and debugging.
    public let label: String
    private let fileDescriptor: Int32

    /// A handler writing to standard error.
    public init(label: String, logLevel: Logger.Level? = nil, metadataProvider: Logger.MetadataProvider? = nil) {
        self.init(label: label, logLevel: logLevel, metadataProvider: metadataProvider, fileDescriptor: 2)
    }

    /// A handler writing to `fileDescriptor`, which it does not own or close. For tests.
    init(label: String, logLevel: Logger.Level?, metadataProvider: Logger.MetadataProvider?, fileDescriptor: Int32) {
        self.label = label
        self.settings = HandlerSettings(ownLevel: logLevel, metadataProvider: metadataProvider)
        self.fileDescriptor = fileDescriptor
    }

    public func log(event: LogEvent) {
        let merged = mergedMetadata(event)
        let line = Self.line(
            time: Self.now(),
            level: event.level,
            message: event.message.description,
            metadata: merged,
            error: event.error
        )
        Self.writeLine(line, to: fileDescriptor)
    }

    /// The text of one line, newline included. Pure: the same input gives the same bytes.
    static func line(
        time: time_t,
        level: Logger.Level,
        message: String,
        metadata: Logger.Metadata,
        error: (any Error)?
    ) -> String {
        var out = timestamp(time)
        out += " "
        out += level.rawValue
        out += " "
        out += escapedMessage(message)
        var pairs: [String] = []
        for key in metadata.keys.sorted() where key != JournalEvent.metadataKey {
            pairs.append(pair(key: key, value: MetadataText.render(metadata[key]!)))
        }
        if let error {
            pairs.append(pair(key: "error", value: String(describing: error)))
        }
        if !pairs.isEmpty {
            out += ": "
            out += pairs.joined(separator: " ")
        }
        out += "\n"
        return out
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` in UTC.
    static func timestamp(_ time: time_t) -> String {
        var seconds = time
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.utf8.count)) + digits
        }
        return pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2)
            + "T" + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2) + "Z"
    }

    private static func now() -> time_t {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return spec.tv_sec
    }

    private static func pair(key: String, value: String) -> String {
        escapedKey(key) + "=" + (needsQuoting(value) ? MetadataText.quoted(value) : value)
    }

    private static func needsQuoting(_ value: String) -> Bool {
        if value.isEmpty { return true }
        return value.unicodeScalars.contains { scalar in
            scalar == " " || scalar == "\"" || scalar == "=" || scalar.value < 0x20 || scalar.value == 0x7F
        }
    }

    /// Keys come from our own code, but a space or `=` in one would make the line ambiguous.
    private static func escapedKey(_ key: String) -> String {
        var out = ""
        for scalar in key.unicodeScalars {
            if scalar == " " || scalar == "=" || scalar.value < 0x20 || scalar.value == 0x7F {
                out += "_"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out.isEmpty ? "_" : out
    }

    /// Control characters shown as `\n`, `\t`, `\u001b`…, so a message stays one line.
    static func escapedMessage(_ message: String) -> String {
        guard message.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\\" }) else {
            return message
        }
        var out = ""
        for scalar in message.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += MetadataText.hexEscape(scalar)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// One `write(2)` for the whole line; retries EINTR and continues after a short write.
    /// Errors are dropped: there is nowhere left to report them.
    static func writeLine(_ line: String, to fileDescriptor: Int32) {
        var line = line
        line.withUTF8 { buffer in
            guard var base = buffer.baseAddress else { return }
            var remaining = buffer.count
            while remaining > 0 {
                let written = write(fileDescriptor, base, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                remaining -= written
                base += written
            }
        }
    }
}
