#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import StrikeConfig
import StrikeCore
import StrikeOS
import StrikeSpool

/// `strikecd import`: NNCP's exec handler (docs/federation.md).
///
/// SECURITY: the payload is whatever a peer node sent; it is not judged
/// here, only made durable in the spool, where it is read like any file
/// (validated, signatures checked, junk quarantined). Runs as NNCP's user,
/// outside the daemon's sandbox, with no more right than writing into the
/// spool (group strikecd-writers).
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Drop the message file (or batch) on standard input into the spool, durably.",
        discussion: """
            For NNCP's exec handler (`exec: {strikecd: ["/usr/bin/strikecd", "import"]}`): the
            payload is written into SPOOL/tmp/, fsynced, and moved into SPOOL/incoming/
            under a new name that holds NNCP_SENDER when it is set (so that its copies are
            not sent back to that peer), then the directory is made durable. A payload that
            is one JSON value is one message (NAME.json); anything else (a batch) is one
            copy per line (NAME.jsonl).

            Exit status: 0 once the file is durable in the spool, whatever it holds (junk
            is quarantined by the daemon as usual, never retried); 75 (EX_TEMPFAIL) when
            it could not be made durable for a reason that may pass (a full disk, no
            inodes left, an I/O error): nothing was left in the spool, and NNCP keeps the
            packet and retries; 73 when the spool cannot be written at all (missing, or
            permission denied); 78 when the configuration is bad.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The configuration file, for the spool's place (default \(DaemonConfig.defaultPath)).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("The spool directory (overrides the configuration).", valueName: "dir"))
    var spool: String?

    func run() throws {
        let directory: String
        if let spool {
            directory = spool
        } else {
            do {
                directory = try DaemonConfig.load(file: config ?? DaemonConfig.defaultPath, allowMissing: config == nil).spool
            } catch {
                Console.error("configuration: \(error)")
                throw ExitCode(78)
            }
        }
        let sender = Environment.value("NNCP_SENDER")
        let stamp = Timestamp.utcText(epochSeconds: Sys.now()).filter { $0 != "-" && $0 != ":" }
        let unique = "\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        // One message (at most 64 KiB and one JSON value) or a batch: decided
        // on the first 64 KiB + 1 bytes, which are kept; the rest is streamed.
        let limit = ValidationPolicy.maximumMessageBytes + 1
        var head: [UInt8] = []
        var atEnd = false
        do throws(SystemError) {
            while head.count < limit {
                let chunk = try Self.readStandardInput(max: limit - head.count)
                if chunk.isEmpty { atEnd = true; break }
                head += chunk
            }
        } catch {
            Console.error("cannot read standard input: \(error)")
            throw ExitCode(75)
        }
        let single = atEnd && (try? JSONReader.read(head)) != nil
        let name = FederationName.nncp(sender: sender, stamp: stamp, unique: unique, lines: !single)
        do throws(SystemError) {
            try AtomicFile.write(directory: directory + "/incoming", temporaryDirectory: directory + "/tmp", name: name) { fd, path throws(SystemError) in
                try Sys.write(fd, head, path: path)
                if atEnd { return }
                while true {
                    let chunk = try Self.readStandardInput(max: 1 << 20)
                    if chunk.isEmpty { return }
                    try Sys.write(fd, chunk, path: path)
                }
            }
        } catch {
            switch error.errno {
            case ENOENT, ENOTDIR, EACCES, EPERM, EROFS:
                Console.error("cannot write into the spool \(directory): \(error) (is strikecd installed, and is this user in group strikecd-writers?)")
                throw ExitCode(73)  // EX_CANTCREAT
            default:
                Console.error("could not make the payload durable in \(directory): \(error); nothing was kept, try again later")
                throw ExitCode(75)  // EX_TEMPFAIL
            }
        }
    }

    static func readStandardInput(max: Int) throws(SystemError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        var failure: SystemError?
        let count = buffer.withUnsafeMutableBytes { raw -> Int in
            do throws(SystemError) { return try Sys.read(0, into: raw, path: "standard input") } catch { failure = error; return 0 }
        }
        if let failure { throw failure }
        return Array(buffer.prefix(count))
    }
}

enum Environment {
    static func value(_ name: String) -> String? {
        guard let pointer = getenv(name) else { return nil }
        return String(cString: pointer)
    }
}
