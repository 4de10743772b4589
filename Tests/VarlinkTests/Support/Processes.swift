import Foundation
import Testing

/// What a finished child process left.
struct ProcessResult: Sendable {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs a program to completion with a deadline; on the deadline the child
/// is killed by its PID. Blocking: call through `offPool`.
func runProcess(_ executable: String, _ arguments: [String], timeout: Double = 60,
                environment: [String: String]? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    let exited = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in exited.signal() }
    try process.run()
    let pid = process.processIdentifier
    // Drain both pipes while the child runs, so it never blocks on a full pipe.
    let outData = Box()
    let errData = Box()
    let readers = DispatchGroup()
    for (pipe, box) in [(out, outData), (err, errData)] {
        readers.enter()
        Thread {
            box.data = pipe.fileHandleForReading.readDataToEndOfFile()
            readers.leave()
        }.start()
    }
    if exited.wait(timeout: .now() + timeout) == .timedOut {
        kill(pid, SIGKILL)
        exited.wait()
        readers.wait()
        throw ProcessTimeout(command: ([executable] + arguments).joined(separator: " "), seconds: timeout)
    }
    readers.wait()
    return ProcessResult(
        status: process.terminationStatus,
        stdout: String(decoding: outData.data, as: UTF8.self),
        stderr: String(decoding: errData.data, as: UTF8.self))
}

private final class Box: @unchecked Sendable {
    // Written by one reader thread, read after `readers.wait()`.
    var data = Data()
}

struct ProcessTimeout: Error, CustomStringConvertible {
    let command: String
    let seconds: Double
    var description: String { "\(command) did not finish within \(seconds) s and was killed" }
}

/// The package's root directory (this file is Tests/VarlinkTests/Support/Processes.swift).
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url.path
}()

/// A python3 that an unprivileged uid can run (not one under root's home).
let systemPython: String = {
    for candidate in ["/usr/bin/python3", "/usr/local/bin/python3"] where FileManager.default.isExecutableFile(atPath: candidate) {
        return candidate
    }
    return "/usr/bin/python3"
}()

/// A tiny Varlink client in Python: connects to argv[1], sends each further
/// argument as one call and prints each reply on its own line, or CLOSED
/// when the server closes the connection. Used as another uid via setpriv.
let pythonRawClient = """
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("CONNECT-FAILED", e.errno)
    sys.exit(0)
s.settimeout(20)
buf = b""
for request in sys.argv[2:]:
    s.sendall(request.encode() + b"\\0")
    while b"\\0" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            print("CLOSED")
            sys.exit(0)
        buf += chunk
    frame, _, buf = buf.partition(b"\\0")
    print(frame.decode())
"""

/// Runs the raw Python client as uid/gid 65534 (nobody/nogroup) with no supplementary groups.
func asNobody(_ socket: String, _ requests: [String]) throws -> [String] {
    let result = try runProcess(
        "/usr/bin/setpriv",
        ["--reuid=65534", "--regid=65534", "--clear-groups", systemPython, "-c", pythonRawClient, socket] + requests,
        timeout: 30)
    #expect(result.status == 0, "setpriv/python failed: \(result.stderr)")
    return result.stdout.split(separator: "\n").map(String.init)
}

/// Sends every request in one write, then prints the first `replies`
/// replies (fewer if the connection closes; a 20 s deadline).
let pythonPipelinedClient = """
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
wanted = int(sys.argv[2])
s.sendall(b"".join(r.encode() + b"\\0" for r in sys.argv[3:]))
s.settimeout(20)
buf = b""
while buf.count(b"\\0") < wanted:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
for frame in buf.split(b"\\0")[:wanted]:
    if frame:
        print(frame.decode())
"""

/// Runs the pipelining Python client as uid/gid 65534 with no supplementary groups.
func asNobody(_ socket: String, pipelined requests: [String], replies: Int) throws -> [String] {
    let result = try runProcess(
        "/usr/bin/setpriv",
        ["--reuid=65534", "--regid=65534", "--clear-groups", systemPython, "-c", pythonPipelinedClient, socket, "\(replies)"] + requests,
        timeout: 30)
    #expect(result.status == 0, "setpriv/python failed: \(result.stderr)")
    return result.stdout.split(separator: "\n").map(String.init)
}

/// The reference Python client (varlink 31.0.0) in a virtual environment under
/// the package, created on first use.
enum ReferenceClient {
    static let venv = packageRoot + "/.venv-varlink"
    static var python: String { venv + "/bin/python" }

    private static let setUp: Result<Void, any Error> = Result {
        if FileManager.default.isExecutableFile(atPath: python),
           (try? runProcess(python, ["-c", "import varlink"], timeout: 60))?.status == 0 {
            return
        }
        let host = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "python3"
        let create = try runProcess(host, ["-m", "venv", venv], timeout: 120)
        guard create.status == 0 else { throw SetupFailed(step: "python3 -m venv", output: create.stderr) }
        let install = try runProcess(venv + "/bin/pip", ["install", "--quiet", "varlink==31.0.0"], timeout: 300)
        guard install.status == 0 else { throw SetupFailed(step: "pip install varlink==31.0.0", output: install.stderr) }
    }

    struct SetupFailed: Error, CustomStringConvertible {
        let step: String
        let output: String
        var description: String { "\(step) failed: \(output)" }
    }

    /// `python -m varlink.cli ARGS`, after making sure the venv exists.
    static func cli(_ arguments: [String]) throws -> ProcessResult {
        try setUp.get()
        return try runProcess(python, ["-m", "varlink.cli"] + arguments, timeout: 60)
    }
}
