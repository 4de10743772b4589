import ArgumentParser
import StrikeCore
import StrikeOS
import StrikeSpool

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate message files without touching any database.",
        discussion: """
            Run this before handing a USB stick to a courier. Each problem is printed as
            `file[:line]: reason: detail` (reason codes: see docs/messages.md). Two
            different valid versions of the same (origin, seq) among the files are reported
            as a conflict: the daemon would reject both.

            Signatures are judged as the daemon on this machine would: with the signatures
            and keyring settings of the configuration file, unless --signatures or
            --keyring say otherwise.

            Exit status: 0 when every copy is valid, 1 when any is invalid or in conflict,
            2 when a file could not be read, 78 when the configuration or keyring is bad.
            """
    )

    @Option(name: .long, help: ArgumentHelp("How far in the future sent_at may be, in seconds.", valueName: "seconds"))
    var maxFutureSkew: Int64 = 15 * 60

    @Flag(name: .shortAndLong, help: "Print nothing for valid files; only problems.")
    var quiet = false

    @OptionGroup var signing: SignatureOptions

    @Argument(help: ArgumentHelp("Message files or directories of them.", valueName: "file"))
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one file or directory to check") }
    }

    func run() throws {
        let (named, skipped) = PathExpansion.expand(files)
        var unreadable = !skipped.isEmpty
        for skip in skipped { Console.warning("\(skip.path): skipped: \(skip.why)") }
        let policy = ValidationPolicy(now: Sys.now(), maximumFutureSkew: maxFutureSkew, signatures: try signing.rules())
        var copies = 0
        var invalid = 0
        var versions: [Envelope: (canonical: [UInt8], source: String)] = [:]
        for file in named {
            let opened: MessageFileReader.Opened
            do {
                opened = try MessageFileReader.open(at: AT_FDCWD_VALUE, file.path, display: file.path, lines: file.lines, policy: policy)
            } catch {
                Console.warning("\(file.path): cannot read: \(error.description)")
                unreadable = true
                continue
            }
            switch opened {
            case .notRegular(let kind):
                Console.warning("\(file.path): skipped: not a regular file (\(kind))")
                unreadable = true
            case .tooLarge(let size, _):
                copies += 1
                invalid += 1
                Console.line("\(file.path): \(ReasonCode.tooLarge.rawValue): file is \(size) bytes")
            case .reader(let reader):
                while let batch = try? reader.next(limit: 1000), !batch.isEmpty {
                    for copy in batch {
                        copies += 1
                        let source = copy.line.map { "\(file.path):\($0)" } ?? file.path
                        switch copy.reading.verdict {
                        case .failure(let rejection):
                            invalid += 1
                            Console.line("\(source): \(rejection.code.rawValue): \(rejection.detail)")
                        case .success(let message):
                            let envelope = Envelope(origin: message.origin, seq: message.seq)
                            // By content: copies that differ only in `sig` are one message.
                            if let earlier = versions[envelope], earlier.canonical != message.content {
                                invalid += 1
                                Console.line("\(source): \(ReasonCode.conflict.rawValue): \(message.origin) #\(message.seq) differs from the version in \(earlier.source); the daemon would reject both")
                            } else {
                                versions[envelope] = (message.content, source)
                            }
                        }
                    }
                }
            }
        }
        if named.isEmpty {
            Console.warning("no message files to check")
        } else if !quiet || invalid > 0 {
            Console.line("checked \(copies) \(copies == 1 ? "copy" : "copies") in \(named.count) \(named.count == 1 ? "file" : "files"): \(invalid == 0 ? "all valid" : "\(invalid) invalid")")
        }
        if invalid > 0 { throw ExitCode(1) }
        if unreadable { throw ExitCode(2) }
    }
}
