import Foundation
import StrikeCore
import TestSupport
import Testing

// A factory committee's secretary and a city coordinator, as the real
// binaries meet them (issue 15): at a terminal where the behaviour depends on
// one (`script` gives the command a pseudo-terminal), through pipes elsewhere.

/// A secretary's laptop: a working directory, a seq state and a key directory.
struct Secretary {
    let directory = TemporaryDirectory("strikecd-secretary")
    var home: String { directory.path }
    var state: String { home + "/seq.json" }
    var keyDir: String { home + "/keys" }

    /// strikectl through pipes, in the secretary's directory.
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runIn(home, Binaries.strikectl, arguments, environment: environment)
    }

    /// strikectl at a terminal: stdout and stderr are the pseudo-terminal
    /// `script` makes, so the output is both, with CR LF line ends.
    func terminal(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let command = ([Binaries.strikectl] + arguments).map(shellQuoted).joined(separator: " ")
        let result = try runIn(home, "/usr/bin/script", ["-qec", command, "/dev/null"], environment: environment)
        return (result.status, result.stdout.replacingOccurrences(of: "\r\n", with: "\n"))
    }

    func file(_ name: String) -> String? {
        try? String(contentsOfFile: home + "/" + name, encoding: .utf8)
    }
}

func shellQuoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }

/// Runs a command in `directory`, with a clean environment plus `environment`.
func runIn(_ directory: String, _ executable: String, _ arguments: [String],
           environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    process.environment = ["PATH": "/usr/bin:/bin", "HOME": directory, "SHELL": "/bin/sh", "TERM": "dumb"].merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

@Suite(.serialized) struct SecretaryEndToEndTests {
    /// Item 9: the keyring names its origins, warns about a key filed under
    /// another origin's name, and the daemon warns when every message of an
    /// origin fails its signature.
    @Test func theKeyringExplainsItself() throws {
        let keys = try Keys(origins: ["granit-plant", "mtz"], inKeyring: ["mtz"])
        try FileManager.default.copyItem(atPath: keys.keyDir + "/granit-plant.pub", toPath: keys.keyring + "/granit.pub")
        let config = keys.directory.path + "/strikecd.yaml"
        try "signatures: required\nkeyring: \(keys.keyring)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let checked = try runCommand(Binaries.strikecd, ["check-config", "--config", config])
        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(checked.stderr.contains("2 keys of 2 origins: granit, mtz"), "\(checked.stderr)")
        #expect(checked.stderr.contains("granit.pub:2: the key is marked as granit-plant's, but this file gives it to granit"), "\(checked.stderr)")

        // mtz's key in the keyring is an old one: every mtz message fails.
        let old = try Keys(origins: ["mtz"])
        try FileManager.default.removeItem(atPath: keys.keyring + "/granit.pub")
        try FileManager.default.removeItem(atPath: keys.keyring + "/mtz.pub")
        try FileManager.default.copyItem(atPath: old.keyDir + "/mtz.pub", toPath: keys.keyring + "/mtz.pub")
        let fixture = try DaemonFixture(settings: "grace_period: 1s\nrescan_interval: 1s\nsignatures: required\nkeyring: \(keys.keyring)\n")
        try fixture.start()
        #expect(fixture.logLines().contains { $0.contains("keyring \(keys.keyring) (signatures required): 1 key of 1 origin: mtz") }, "\(fixture.logLines())")
        let bytes = try keys.new(["strike.reported", "--origin", "mtz", "--workplace", "mtz", "--status", "strike"], to: keys.directory.path + "/m.json")
        try dropAtomically(bytes, name: "m.json", tmpDir: fixture.tmp, dir: fixture.incoming)
        try waitUntil("the warning", timeout: 60) {
            fixture.logLines().contains { $0.contains("every message of mtz so far (1) failed its signature: the keyring's key for mtz may be wrong") }
        }
        #expect(fixture.stop() == 0)
    }
}
