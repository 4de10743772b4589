import Logging
import Testing

@testable import StrikeJournal

@Suite struct LogOutputTests {
    let stderrIdentity = FileIdentity(device: 64769, inode: 123_456)

    @Test(arguments: [
        // mode, JOURNAL_STREAM, socket exists, expected destination, falls back
        (LogMode.console, "64769:123456", true, LogOutput.Destination.console, false),
        (.journal, nil, true, .journal, false),
        (.journal, nil, false, .console, true),
        (.auto, "64769:123456", true, .journal, false),
        (.auto, "64769:123457", true, .console, false),  // inherited, stderr redirected elsewhere
        (.auto, nil, true, .console, false),
        (.auto, "64769:123456", false, .console, false),
        (.auto, "garbage", true, .console, false),
        (.auto, "64769:", true, .console, false),
        (.auto, "-1:123456", true, .console, false),
    ] as [(LogMode, String?, Bool, LogOutput.Destination, Bool)])
    func resolves(mode: LogMode, stream: String?, socket: Bool, destination: LogOutput.Destination, fallsBack: Bool) {
        let output = LogOutput.resolve(
            mode: mode, journalStream: stream, standardError: stderrIdentity, journalSocketExists: socket
        )
        #expect(output.destination == destination)
        #expect((output.fallbackReason != nil) == fallsBack)
    }

    @Test func fallbackReasonIsOneLineNamingTheSocket() throws {
        let output = LogOutput.resolve(mode: .journal, journalStream: nil, standardError: nil, journalSocketExists: false)
        let reason = try #require(output.fallbackReason)
        #expect(reason.contains(LogOutput.journalSocketPath))
        #expect(!reason.contains("\n"))
    }

    @Test(arguments: [("1:2", FileIdentity(device: 1, inode: 2)), ("0:0", FileIdentity(device: 0, inode: 0))])
    func parsesJournalStream(text: String, identity: FileIdentity) {
        #expect(FileIdentity(journalStream: text) == identity)
    }

    @Test(arguments: ["", ":", "1", "1:2:3", "a:2", "1:b", " 1:2", "+1:2", "1:-2", "99999999999999999999:1"])
    func rejectsMalformedJournalStream(text: String) {
        #expect(FileIdentity(journalStream: text) == nil)
    }

    @Test func modeParsesFromCommandLineWords() {
        #expect(LogMode(rawValue: "journal") == .journal)
        #expect(LogMode(rawValue: "auto") == .auto)
        #expect(LogMode(rawValue: "syslog") == nil)
    }

    @Test func makeHandlerPicksTheType() {
        #expect(StrikeLogging.makeHandler(label: "x", output: .console, level: .debug) is ConsoleLogHandler)
        let journal = StrikeLogging.makeHandler(label: "x", output: .journal, level: .error, identifier: "other")
        #expect((journal as? JournalLogHandler)?.identifier == "other")
        #expect(journal.logLevel == .error)
    }

    @Test func realStandardErrorIdentityMatchesItself() throws {
        let identity = try #require(LogOutput.identity(ofFileDescriptor: 2))
        let stream = "\(identity.device):\(identity.inode)"
        let output = LogOutput.resolve(mode: .auto, journalStream: stream, standardError: identity, journalSocketExists: true)
        #expect(output.destination == .journal)
        #expect(LogOutput.identity(ofFileDescriptor: -1) == nil)
    }
}
