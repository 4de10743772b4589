import Foundation
import Logging
import Testing

@testable import StrikeJournal

#if canImport(Glibc)
import Glibc
#endif

// Under ProcessWideTests: the tests make pipes, and a process spawned meanwhile by another
// suite could inherit a write end and keep the reader from ever seeing end-of-file.
extension ProcessWideTests {
    @Suite struct ConsoleLogHandlerTests {
        // 2026-11-29T10:00:00Z
        let time: time_t = 1_795_946_400

        @Test func briefExample() {
            let line = ConsoleLogHandler.line(
                time: time, level: .notice, message: "quarantined x.json",
                metadata: JournalEvent.quarantined.metadata(["reason": "json", "line": "3"]), error: nil
            )
            #expect(line == "2026-11-29T10:00:00Z notice quarantined x.json: line=3 reason=json\n")
        }

        @Test func noMetadataNoColon() {
            let line = ConsoleLogHandler.line(time: 0, level: .info, message: "ready", metadata: [:], error: nil)
            #expect(line == "1970-01-01T00:00:00Z info ready\n")
        }

        @Test(arguments: [
            ("plain", "k=plain"),
            ("two words", #"k="two words""#),
            ("", #"k="""#),
            ("a=b", #"k="a=b""#),
            ("say \"hi\"", #"k="say \"hi\"""#),
            ("line\nbreak", #"k="line\nbreak""#),
            ("x/y.json", "k=x/y.json"),
        ])
        func valuesAreQuotedWhenAmbiguous(value: String, expected: String) {
            let line = ConsoleLogHandler.line(time: 0, level: .info, message: "m", metadata: ["k": .string(value)], error: nil)
            #expect(line == "1970-01-01T00:00:00Z info m: \(expected)\n")
        }

        @Test func oneEventIsOneLineWhateverTheMessage() {
            let line = ConsoleLogHandler.line(
                time: 0, level: .warning, message: "bad\nname\u{1b}[31m\\", metadata: ["n": ["x": "1"]],
                error: CocoaError(.fileNoSuchFile)
            )
            #expect(line.filter { $0 == "\n" }.count == 1)
            #expect(line.hasPrefix(#"1970-01-01T00:00:00Z warning bad\nname\u001b[31m\\: n="#))
            #expect(line.contains(" error="))
        }

        @Test func writesWholeLinesFromManyThreads() async throws {
            var fds: [Int32] = [0, 0]
            try #require(pipe(&fds) == 0)
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            let (readEnd, writeEnd) = (fds[0], fds[1])
            defer { close(readEnd) }
            let logger = Logger(label: "t") { label in
                ConsoleLogHandler(label: label, logLevel: .info, metadataProvider: nil, fileDescriptor: writeEnd)
            }
            let writers = 8, perWriter = 50
            // Read concurrently so the pipe never fills.
            let reader = Task.detached { () -> [UInt8] in
                var all: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = read(readEnd, &buffer, buffer.count)
                    if n <= 0 { break }
                    all.append(contentsOf: buffer[0..<n])
                }
                return all
            }
            await withTaskGroup(of: Void.self) { group in
                for w in 0..<writers {
                    group.addTask {
                        for i in 0..<perWriter {
                            logger.info("writer \(w) line \(i)", metadata: ["pad": .string(String(repeating: "p", count: 200))])
                        }
                    }
                }
            }
            close(writeEnd)
            let text = String(decoding: await reader.value, as: UTF8.self)
            let lines = text.split(separator: "\n")
            #expect(lines.count == writers * perWriter)
            let wellFormed = try Regex(#"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ info writer \d+ line \d+: pad=p{200}$"#)
            #expect(lines.allSatisfy { $0.wholeMatch(of: wellFormed) != nil })
        }

        @Test func respectsHandlerMetadataAndProvider() throws {
            var fds: [Int32] = [0, 0]
            try #require(pipe(&fds) == 0)
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            defer { close(fds[0]) }
            var logger = Logger(label: "t") { label in
                ConsoleLogHandler(
                    label: label, logLevel: .info,
                    metadataProvider: Logger.MetadataProvider { ["task": "scan"] }, fileDescriptor: fds[1]
                )
            }
            logger[metadataKey: "origin"] = "mtz"
            logger.debug("hidden")
            logger.info("shown", metadata: ["seq": "4"])
            close(fds[1])
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(fds[0], &buffer, buffer.count)
            let text = String(decoding: buffer[0..<max(0, n)], as: UTF8.self)
            #expect(text.hasSuffix(" info shown: origin=mtz seq=4 task=scan\n"))
            #expect(!text.contains("hidden"))
        }
    }
}
