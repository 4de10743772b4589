import Foundation
import StrikeCore
import TestSupport
import Testing

/// A connected Unix stream socket, closed when released.
final class RawClient: @unchecked Sendable {
    let fd: Int32

    init?(_ path: String) {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if connected != 0 {
            close(fd)
            return nil
        }
    }

    /// Sends as much of `bytes` as the peer takes; false once it is cut off.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            done += n
        }
        return true
    }

    deinit { close(fd) }
}

@Suite(.serialized) struct QueryEndToEndTests {
    static func fixture(extra: String = "") throws -> DaemonFixture {
        try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\n" + extra)
    }

    /// `strikectl status --json` equals `Summary()` of the daemon's store equals
    /// a one-shot `strikecd ingest` of the same copies (issue: query).
    @Test func statusEqualsSummaryEqualsIngest() throws {
        let fixture = try Self.fixture()
        let socket = fixture.directory.path + "/socket"
        try fixture.start(extra: ["--socket", socket])
        var rng = SplitMix(seed: 77)
        let corpus = Corpus(seed: 77, messages: 400)
        let layout = CorpusFiles(copies: corpus.copies, rng: &rng)
        let reference = fixture.directory.path + "/reference"
        try FileManager.default.createDirectory(atPath: reference, withIntermediateDirectories: true)
        try layout.write(to: reference)
        for file in layout.files {
            try dropAtomically(file.bytes, name: file.name, tmpDir: fixture.tmp, dir: fixture.incoming)
        }
        try waitUntil("incoming/ to be empty", timeout: 60) { fixture.names(fixture.incoming).isEmpty }
        let status = try runCommand(Binaries.strikectl, ["status", "--json", "--socket", socket])
        #expect(status.status == 0, "\(status.stderr)")
        let expected = try DaemonFixture.summary(database: fixture.directory.path + "/reference.sqlite", paths: [reference])
        #expect(status.stdout.filter { !$0.isWhitespace } == expected)
        // The options may come first, as with other tools.
        let optionsFirst = try runCommand(Binaries.strikectl, ["--json", "--socket", socket, "status"])
        #expect(optionsFirst.status == 0, "\(optionsFirst.stderr)")
        #expect(optionsFirst.stdout == status.stdout)
        #expect(try fixture.summary() == expected)
        #expect(fixture.stop() == 0)
    }

    /// Hostile clients (many connections from one uid, 20 MB without a NUL,
    /// a half-sent call) neither stop the daemon serving another user nor
    /// stop it ingesting.
    @Test func hostileClientsDoNotStopServingOrIngesting() throws {
        // nobody (65534) queries as a member of its primary group nogroup.
        let fixture = try Self.fixture(extra: "query_group: nogroup\nmax_connections_per_user: 16\nrequest_timeout: 2s\n")
        let socket = fixture.directory.path + "/socket"
        try fixture.start(extra: ["--socket", socket])
        chmod(fixture.directory.path, 0o755)

        // Root opens far more connections than its share…
        var held: [RawClient] = []
        for _ in 0..<300 { if let client = RawClient(socket) { held.append(client) } }
        #expect(held.count >= 16)
        // …one floods 20 MB without a NUL, one sends half a call and stalls.
        let flooder = RawClient(socket)
        let stalled = RawClient(socket)
        _ = stalled?.send(Array(#"{"method":"org.strikecd.Query.Summ"#.utf8))
        let flood = Thread {
            let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)
            for _ in 0..<20 { if flooder?.send(chunk) != true { break } }
        }
        flood.start()

        // Meanwhile files keep arriving and are applied.
        let message = "{\"v\":1,\"origin\":\"mtz\",\"seq\":1,\"sent_at\":\"2020-08-24T09:00:00Z\",\"type\":\"strike.reported\",\"data\":{\"workplace\":\"mtz\",\"status\":\"strike\",\"participants\":3000}}"
        try dropAtomically(Array(message.utf8), name: "m.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("the file to be applied despite the hostile clients", timeout: 30) {
            fixture.names(fixture.incoming).isEmpty
        }
        // Another user is still served, with the new state.
        let status = try runCommand("/usr/bin/setpriv", [
            "--reuid=65534", "--regid=65534", "--clear-groups", Binaries.strikectl, "status", "--json", "--socket", socket,
        ])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("\"participants\": 3000") || status.stdout.contains("\"participants\":3000"), "\(status.stdout)")
        #expect(fixture.process?.isRunning == true)
        held.removeAll()
        #expect(fixture.stop() == 0)
    }
}
