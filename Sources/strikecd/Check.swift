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
            as a conflict: the daemon would reject both. A message dated before a lower
            seq of its origin is reported as `back in time` (a clock set wrong when it was
            written); it is valid, but counts as older than the messages before it.

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
        var reports = 0
        var versions: [Envelope: (canonical: [UInt8], source: String)] = [:]
        var dated: [Slug: [(seq: Int64, sentAt: Timestamp, source: String)]] = [:]
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
                        case .failure(let rejection) where rejection.code == .unknownOrigin:
                            // Not a fault of the message: this machine cannot judge it.
                            invalid += 1
                            let origin = copy.reading.envelope.map { "\($0.origin)" } ?? "its origin"
                            Console.line("\(source): \(rejection.code.rawValue): not verified here (no key for \(origin) in the keyring); this daemon would quarantine it until the key is added (a secretary checks her own messages with `strikectl check`)")
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
                                if versions[envelope] == nil { dated[message.origin, default: []].append((message.seq, message.sentAt, source)) }
                                versions[envelope] = (message.content, source)
                            }
                            // Valid, but not this origin's to say here: applied as a report that moves nothing.
                            if !policy.signatures.speakers.admits(message), let body = message.aboutBody {
                                reports += 1
                                Console.line("\(source): report from another origin: \(message.origin) does not speak for \(body) in this keyring, so the daemon would keep it as a report that changes nothing (if it should, add `speaks-for \(body)` to \(message.origin).pub)")
                            }
                        }
                    }
                }
            }
        }
        let backwards = Check.backInTime(dated)
        for step in backwards {
            Console.line("\(step.later.source): back in time: \(step.origin) #\(step.later.seq) is dated \(step.later.sentAt.text), before #\(step.earlier.seq) (\(step.earlier.sentAt.text), in \(step.earlier.source)); messages are ordered by sent_at, so #\(step.later.seq) counts as the older: was the clock of the computer that wrote it wrong?")
        }
        if named.isEmpty {
            Console.warning("no message files to check")
        } else if !quiet || invalid > 0 || !backwards.isEmpty {
            let times = (backwards.isEmpty ? "" : "; \(backwards.count) \(backwards.count == 1 ? "goes" : "go") back in time")
                + (reports == 0 ? "" : "; \(reports) \(reports == 1 ? "is a report" : "are reports") from another origin")
            Console.line("checked \(copies) \(copies == 1 ? "copy" : "copies") in \(named.count) \(named.count == 1 ? "file" : "files"): \(invalid == 0 ? "all valid" : "\(invalid) invalid")\(times)")
        }
        if invalid > 0 { throw ExitCode(1) }
        if unreadable { throw ExitCode(2) }
    }
}

extension Check {
    typealias Dated = (seq: Int64, sentAt: Timestamp, source: String)

    /// Each message dated before a lower seq of its origin: a clock that
    /// went back (a flat battery, a reset laptop) between two messages.
    static func backInTime(_ dated: [Slug: [Dated]]) -> [(origin: Slug, earlier: Dated, later: Dated)] {
        var steps: [(origin: Slug, earlier: Dated, later: Dated)] = []
        for origin in dated.keys.sorted() {
            var latest: Dated?
            for message in dated[origin]!.sorted(by: { $0.seq < $1.seq }) {
                if let latest, message.sentAt < latest.sentAt {
                    steps.append((origin, latest, message))
                } else {
                    latest = message
                }
            }
        }
        return steps
    }
}
