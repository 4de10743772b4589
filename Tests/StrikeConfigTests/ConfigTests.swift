import Foundation
import StrikeConfig
import Testing

@Suite struct ConfigTests {
    static let shipped = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config/strikecd.yaml").path

    /// The shipped file documents every setting with its true default.
    @Test func shippedFileStatesTheDefaults() throws {
        let config = try DaemonConfig.load(file: Self.shipped, allowMissing: false)
        #expect(config == DaemonConfig())
        let text = try String(contentsOfFile: Self.shipped, encoding: .utf8)
        for key in DaemonConfig.settingNames {
            #expect(text.contains("\n\(key): "), "config/strikecd.yaml shows \(key)")
        }
    }

    @Test func emptyAndMissingFilesGiveDefaults() throws {
        #expect(try DaemonConfig.parse("", file: "x.yaml") == DaemonConfig())
        #expect(try DaemonConfig.parse("# nothing\n", file: "x.yaml") == DaemonConfig())
        #expect(try DaemonConfig.load(file: "/nonexistent/strikecd.yaml", allowMissing: true) == DaemonConfig())
        #expect(throws: ConfigError.self) { try DaemonConfig.load(file: "/nonexistent/strikecd.yaml", allowMissing: false) }
    }

    @Test func valuesWithUnits() throws {
        let config = try DaemonConfig.parse("""
            grace_period: 500ms
            max_future_skew: 2h
            rescan_interval: 90
            max_file_size: 64KiB
            max_request_size: 2M
            batch_size: 10_000
            spool: relative/spool
            """, file: "/etc/strikecd/strikecd.yaml")
        #expect(config.gracePeriod == 0.5)
        #expect(config.maxFutureSkew == 7200)
        #expect(config.rescanInterval == 90)
        #expect(config.maxFileSize == 65536)
        #expect(config.maxRequestSize == 2 << 20)
        #expect(config.batchSize == 10_000)
        #expect(config.spool == "/etc/strikecd/relative/spool")
    }

    /// Every number of the file at its edges: the largest accepted, one
    /// more, 64 bits and beyond, negatives, and what a Double parses
    /// (nan, inf, 1e308): accepted within range, a clear error otherwise,
    /// never an overflow.
    @Test(arguments: [
        ("batch_size: 1", true), ("batch_size: 100000", true), ("batch_size: 100001", false),
        ("batch_size: 9223372036854775807", false), ("batch_size: 9223372036854775808", false),
        ("batch_size: -9223372036854775808", false), ("batch_size: -1", false),
        ("max_connections: 65536", true), ("max_connections: 65537", false), ("max_connections_per_user: 0", false),
        ("max_file_size: 64KiB", true), ("max_file_size: 65535", false), ("max_file_size: 9223372036854775807", true),
        ("max_file_size: 9223372036854775807B", true), ("max_file_size: 9223372036854775808", false),
        ("max_file_size: 8589934591GiB", true), ("max_file_size: 8589934592GiB", false), ("max_file_size: 9007199254740992KiB", false),
        ("max_request_size: 9223372036854775807", true), ("max_request_size: -1KiB", false),
        ("max_future_skew: 315360000s", true), ("max_future_skew: 315360001s", false), ("max_future_skew: 3650d", true),
        ("max_future_skew: 3651d", false), ("max_future_skew: 1e308", false), ("max_future_skew: -1s", false),
        ("grace_period: nan", false), ("grace_period: inf", false), ("grace_period: -0", true),
        ("request_timeout: 9223372036854775807ms", false), ("rescan_interval: 0", true),
    ] as [(String, Bool)])
    func numbersAtTheirEdges(text: String, accepted: Bool) throws {
        do {
            let config = try DaemonConfig.parse(text, file: "/etc/strikecd/strikecd.yaml")
            #expect(accepted, "\(text) was accepted: \(config)")
            #expect(config.maxFutureSkew >= 0 && config.maxFutureSkew <= 315_360_000)
            #expect(config.rescanInterval >= 1)
        } catch {
            #expect(!accepted, "\(text): \(error)")
            #expect(error.line == 1 && error.key != nil, "\(error)")
        }
    }

    @Test(arguments: [
        ("grace_perod: 5s", 1, "grace_perod", "did you mean \"grace_period\""),
        ("spool: /x\nbatch_size: many", 2, "batch_size", "must be a whole number"),
        ("batch_size: 0", 1, "batch_size", "from 1 to 100000"),
        ("grace_period: soon", 1, "grace_period", "must be a duration"),
        ("max_file_size: 1KiB", 1, "max_file_size", "at least 65536 bytes"),
        ("log_level: loud", 1, "log_level", "must be one of"),
        ("spool: /a\nspool: /b", 2, "spool", "set twice"),
        ("spool:", 1, "spool", "has no value"),
        ("- a\n- b", 1, nil, "key: value"),
        ("spool: [unclosed", 2, nil, "not valid YAML"),
        ("max_future_skew: 100000000000s", 1, "max_future_skew", "must be a duration"),
    ] as [(String, Int, String?, String)])
    func errorsNameLineAndKey(text: String, line: Int, key: String?, message: String) throws {
        do {
            _ = try DaemonConfig.parse(text, file: "/etc/strikecd/strikecd.yaml")
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.key == key, "\(error)")
            #expect(error.description.contains(message), "\(error)")
            #expect(error.description.hasPrefix("/etc/strikecd/strikecd.yaml:\(line): "))
        }
    }
}
