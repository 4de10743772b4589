import Logging

/// The kinds of event strikecd reports, each with a fixed journal `MESSAGE_ID`.
///
/// Use one whenever a log line reports something an operator may want to find, count or
/// alert on: the id never changes, so `journalctl MESSAGE_ID=…` keeps working across
/// releases and wording changes, and `journalctl -x` shows the explanation from
/// `systemd/strikecd.catalog`. Do not use one for ad-hoc debug output.
///
/// Convention: a log call carries the metadata key ``metadataKey`` (`event`) whose value is
/// the raw value; ``JournalLogHandler`` turns it into `MESSAGE_ID` and *also* keeps it as the
/// field `STRIKECD_EVENT` (so `journalctl STRIKECD_EVENT=quarantined` works without looking
/// the id up). ``ConsoleLogHandler`` leaves it out: the message already says what happened.
///
/// ```swift
/// logger.notice("quarantined \(name)",
///               metadata: JournalEvent.quarantined.metadata(["file": "\(name)", "reason": "json"]))
/// ```
///
/// The ids were generated once with `systemd-id128 new`. Never change or reuse one: a test
/// keeps this list and the catalog's entries identical.
public enum JournalEvent: String, CaseIterable, Sendable {
    /// The process started and is opening the store (not yet serving).
    case started
    /// The store is open, the spool being worked through and the socket listening (`READY=1` sent).
    case ready
    /// SIGHUP received; configuration is being re-read (`RELOADING=1` sent).
    case reloading
    /// The new configuration is in effect.
    case reloaded
    /// SIGTERM received; finishing the current transaction (`STOPPING=1` sent).
    case stopping
    /// Clean exit.
    case stopped
    /// The configuration file could not be read or is invalid.
    case configError = "config_error"
    /// A group commit applied messages to the store.
    case batchApplied = "batch_applied"
    /// A spool copy was rejected and moved to `quarantine/` with a reason.
    case quarantined
    /// Two different valid versions of one `(origin, seq)`: all rejected.
    case conflict
    /// An origin's sequence has holes.
    case gap
    /// A copy equal to one seen before was counted and removed. Normal with sync tools;
    /// log it at debug or info, never above.
    case duplicateSkipped = "duplicate_skipped"
    /// A transient failure (database locked, disk full); the work is kept and retried after
    /// a back-off.
    case retrying
    /// The spool directory itself cannot be read or watched.
    case spoolError = "spool_error"
    /// A Varlink client was refused (permission, connection or size limits).
    case clientRejected = "client_rejected"
    /// The spool has been quiet for a second after work: counts of the copies
    /// since it last was (a courier's drop is done).
    case ingestFinished = "ingest_finished"
    /// Work left by an earlier run (or held up by trouble) was finished.
    case recovered
    /// An operator moved a quarantined copy back into `incoming/`; its version was forgotten.
    case requeued
    /// A valid message whose origin does not speak for the body it is about
    /// was kept as a report from another origin: applied, but it moved nothing.
    case reportFromOther = "report_from_other"
    /// The keyring's scopes changed since the state was folded: messages
    /// moved in or out of scope and their subjects were folded again.
    case rescoped
    /// A batch of accepted copies was written for a federation peer.
    case federationSent = "federation_sent"
    /// A federation peer's gap report or answer was read.
    case federationReceived = "federation_received"
    /// This node told a peer what it holds and lacks (a gap report).
    case federationAsked = "federation_asked"
    /// This node answered a peer's gap report: re-sent copies, or said what it cannot supply.
    case federationAnswered = "federation_answered"

    /// The metadata key whose value names the event (`event`).
    public static let metadataKey = "event"

    /// The journal `MESSAGE_ID`: 128 bits as 32 lowercase hexadecimal characters.
    public var messageID: String {
        switch self {
        case .started: "24657059a081430b95b83d9fecc568c5"
        case .ready: "4e4d51e20f69430398e444508da1e50f"
        case .reloading: "1417fcc4d26d4fa5ba5c778b72a61feb"
        case .reloaded: "82a4735167d04d539bf2b7ab6a53196d"
        case .stopping: "956a1bfb27aa4d768c0381d61877a80e"
        case .stopped: "19d69070adc14e05b0d37ccde7ed3847"
        case .configError: "44acfce296c94b379984d5655b6b1e65"
        case .batchApplied: "95df6adc11f449dd9fab1e0adfaccea2"
        case .quarantined: "151989f7d5a0473caefac51a1936c9e0"
        case .conflict: "50eb2592250a49179c72b01154aceefc"
        case .gap: "6c1ab0b512d744c98d4b8ac46bc8b292"
        case .duplicateSkipped: "6a1321b4751e4c788a5953eb2eb524d1"
        case .retrying: "7fbba03291e3451c9ec4d9db54510211"
        case .spoolError: "5fc1913a6aa142cbb617c55997701af3"
        case .clientRejected: "06973b3da4744e43a6097c8d1c3bb80d"
        case .ingestFinished: "e13c1186833d401dbc5b300a79861a88"
        case .recovered: "ad2d787304f2447b89c9aeba72e890ad"
        case .requeued: "7520f0e3f36440bcbeefdd7762b90520"
        case .reportFromOther: "720a5ecd92d445a0b1e50cb153e8aff4"
        case .rescoped: "ed57bf57df4447018dba6a04eb944c88"
        case .federationSent: "1b0a3354eb6a46f5bea1693b801af2e0"
        case .federationReceived: "31e55e218e2b427da738ceb3088827c5"
        case .federationAsked: "427c58a7e0124bd489b3101eff372876"
        case .federationAnswered: "f6d60b1c36c64a32a0aec486a867bb27"
        }
    }

    /// Metadata for a log call: `fields` plus `event` set to this event.
    ///
    /// A key `event` in `fields` is overwritten: the event is the one this is called on.
    public func metadata(_ fields: Logger.Metadata = [:]) -> Logger.Metadata {
        var metadata = fields
        metadata[Self.metadataKey] = .string(rawValue)
        return metadata
    }
}
