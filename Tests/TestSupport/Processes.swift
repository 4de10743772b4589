import Foundation

/// Where the built executables are: beside the test bundle.
public enum Binaries {
    public static var directory: String {
        if let dir = ProcessInfo.processInfo.environment["STRIKECD_BIN_DIR"] { return dir }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // swift-testing runs the .xctest bundle's executable directly on Linux.
        if url.lastPathComponent.hasSuffix(".xctest") { url = url.deletingLastPathComponent() }
        return url.path
    }

    public static var strikecd: String { directory + "/strikecd" }
    public static var strikectl: String { directory + "/strikectl" }
}

public struct TimeoutError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Waits for `condition` to hold, checking every 20 ms, for at most `timeout`
/// seconds. Never a fixed sleep: it returns as soon as the condition holds.
public func waitUntil(_ what: String, timeout: Double = 30, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if try condition() { return }
        if Date() > deadline { throw TimeoutError(description: "timed out after \(timeout) s waiting for \(what)") }
        usleep(20_000)
    }
}

/// A child process the test owns: killed by its PID when released.
public final class RunningProcess: @unchecked Sendable {
    public let process = Process()
    public let logPath: String

    public init(_ executable: String, _ arguments: [String], log: String, environment: [String: String]? = nil) throws {
        logPath = log
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = FileHandle(forWritingAtPath: log)!
        handle.seekToEndOfFile()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        if let environment { process.environment = environment }
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    public func signal(_ signal: Int32) {
        if process.isRunning { kill(pid, signal) }
    }

    /// The exit status, or nil if it had not exited within `timeout`; a
    /// death by signal gives 128 + the signal's number.
    public func waitForExit(timeout: Double = 30) -> Int32? {
        do {
            try waitUntil("process \(pid) to exit", timeout: timeout) { !process.isRunning }
        } catch {
            return nil
        }
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Runs a command to completion and returns its status and output; in
/// `directory` and with exactly `environment` when they are given (else in
/// this process's directory, with its environment).
@discardableResult
public func runCommand(_ executable: String, _ arguments: [String], input: String? = nil,
                       directory: String? = nil, environment: [String: String]? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    if let input {
        let inPipe = Pipe()
        process.standardInput = inPipe
        try process.run()
        inPipe.fileHandleForWriting.write(Data(input.utf8))
        try inPipe.fileHandleForWriting.close()
    } else {
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }
    // Read both pipes concurrently so neither fills up and blocks the child.
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

/// Writes a file atomically: into `tmpDir`, fsync, rename into `dir`.
public func dropAtomically(_ bytes: [UInt8], name: String, tmpDir: String, dir: String) throws {
    let temporary = tmpDir + "/" + name + ".\(UUID().uuidString.prefix(6))"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard fd >= 0 else { throw TimeoutError(description: "cannot create \(temporary): errno \(errno)") }
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    fsync(fd)
    close(fd)
    guard rename(temporary, dir + "/" + name) == 0 else { throw TimeoutError(description: "rename failed: errno \(errno)") }
}
