import Foundation

/// What a finished command printed and returned.
struct CommandResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum CommandError: Error, CustomStringConvertible {
    case notExecutable(String)
    var description: String {
        switch self {
        case .notExecutable(let path): "\(path) is not executable here"
        }
    }
}

/// Runs a program to completion, output into temporary files (a pipe could fill and block).
func run(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> CommandResult {
    guard FileManager.default.isExecutableFile(atPath: path) else { throw CommandError.notExecutable(path) }
    let directory = FileManager.default.temporaryDirectory
    let outURL = directory.appendingPathComponent("strikecd-test-\(UUID().uuidString).out")
    let errURL = directory.appendingPathComponent("strikecd-test-\(UUID().uuidString).err")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = out
    process.standardError = err
    try process.run()
    process.waitUntilExit()
    try out.close()
    try err.close()
    return CommandResult(
        status: process.terminationStatus,
        stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
        stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self)
    )
}

/// Polls `condition` until it returns a value or `timeout` passes; nil on timeout.
/// This is waiting on a condition with a deadline, not sleeping for synchronisation.
func waitFor<T>(
    timeout: Duration = .seconds(15),
    every interval: Duration = .milliseconds(20),
    _ condition: () throws -> T?
) async rethrows -> T? {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
        if let value = try condition() { return value }
        if clock.now >= deadline { return nil }
        try? await Task.sleep(for: interval)
    }
}

/// The package root, found from this file's path (Tests/StrikeJournalTests/Support/…).
let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()
    .deletingLastPathComponent()
    .deletingLastPathComponent()
    .deletingLastPathComponent()

/// A fresh temporary directory, removed by the caller.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("strikecd-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
