import Logging
import Testing

@testable import StrikeJournal
@testable import StrikeSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Not a test on its own: the program that `UnitEndToEndTests` runs as `ExecStart=` of the
/// real strikecd.service under a real systemd, standing in for the daemon until it exists.
/// It does what the daemon must (take the socket, log to the journal, READY=1, STOPPING=1)
/// inside the unit's full sandbox, and answers one connection with what it saw. Skipped
/// unless STRIKECD_UNIT_PROBE is set.
@Suite struct UnitProbe {
    @Test(.enabled(if: getenv("STRIKECD_UNIT_PROBE") != nil))
    func unitProbe() throws {
        let output = LogOutput.resolve(mode: .auto)
        let logger = Logger(label: "strikecd.probe") { label in
            StrikeLogging.makeHandler(label: label, output: output.destination, level: .debug)
        }
        let notifier = SystemdNotifier()
        let passed = try ListenSockets.take()
        let listener = try #require(passed.firstUnixStreamListener(named: "varlink"), "no varlink socket passed")
        let watchdog = notifier.watchdogInterval.map { "\($0.components.seconds)" } ?? "off"
        logger.notice(
            "probe ready",
            metadata: JournalEvent.ready.metadata(["output": "\(output.destination)", "watchdog": "\(watchdog)"])
        )
        #expect(notifier.ready(status: "probe listening") == .sent)
        #expect(notifier.watchdog() == .sent)

        let connection = accept(listener.fileDescriptor, nil, nil)
        try #require(connection >= 0, "accept: errno \(errno)")
        let answer = "probe output=\(output.destination) watchdog=\(watchdog) uid=\(getuid())\n"
        _ = answer.withCString { write(connection, $0, strlen($0)) }
        close(connection)

        #expect(notifier.stopping() == .sent)
        logger.notice("probe stopping", metadata: JournalEvent.stopping.metadata())
    }
}
