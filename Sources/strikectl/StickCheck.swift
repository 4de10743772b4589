import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrikeCore
import StrikeOS
import StrikeSigning

// SECURITY: reads message files from a stick that may come from anyone, as
// the daemon would (MessageReader, with size limits); reads public keys, and
// a secret key only to derive its public half, never printing it.

/// A secretary's check of a stick before it leaves (or after it comes back):
/// are the messages well formed, signed by the keys this laptop knows, and is
/// every number there?
struct StickCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check message files or a stick: format, signatures by your keys, and each origin's numbers.",
        discussion: """
            Reads each file (and each *.json and *.jsonl file under a directory), checks
            every message as strikecd would, and verifies signatures with the public keys
            on this computer: those in KEY-DIR (ORIGIN.pub, and the public half of each
            ORIGIN.key), and in each --keys directory. A message of an origin with no key
            here is "not verified here (no key for ORIGIN)": it is not invalid, only not
            checked; the node checks it with its own keyring. Secret keys stay where they are.

            Then, for each origin, the numbers found (#1-#4, #6) and those missing: between
            1 and the highest found, and, for the origins counted here (--state, as for
            `strikectl new`), those written on this computer but not on the stick.
            Messages dated before a lower seq of their origin are flagged (a clock set wrong).

            Exit status: 0 when every message is valid (verified or not), 1 when any is
            invalid, has a bad signature or is in conflict, 2 when a file could not be read.
            """)

    @OptionGroup var keys: KeyOptions
    @Option(name: .customLong("keys"), help: ArgumentHelp("Another directory of public keys (ORIGIN.pub).", valueName: "dir"),
            completion: .directory)
    var keyDirectories: [String] = []
    @Option(help: ArgumentHelp("The seq state file, as for `strikectl new`.", valueName: "file"), completion: .file()) var state: String?
    @Option(help: ArgumentHelp("The names file of the node's ids (default: $XDG_CONFIG_HOME/strikectl/names).", valueName: "file"),
            completion: .file())
    var names: String?

    @Argument(help: ArgumentHelp("Message files, or directories such as a stick's.", valueName: "path"), completion: .file())
    var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one file or directory to check (a stick: strikectl check /media/usb)") }
    }

    func run() throws {
        let keyring = try loadKeys()
        let now = Clock.now()
        let format = ValidationPolicy(now: now)
        let signatures = ValidationPolicy(now: now, signatures: SignatureRules(policy: .required, verifier: keyring))
        var files: [String] = []
        var unreadable = false
        for path in paths { collect(path, into: &files, unreadable: &unreadable) }
        var invalid = 0
        var copies = 0
        var unverified: Set<String> = []
        var versions: [String: (content: [UInt8], source: String)] = [:]
        var found: [String: [(seq: Int64, sentAt: Timestamp, source: String)]] = [:]
        let namesPath = names ?? NamesFile.defaultPath
        let known = try NamesFile.load(namesPath)
        if known == nil && names != nil { throw Failure("no names file \(namesPath)") }
        for path in files {
            let file: MessageFile
            do {
                file = try MessageFile.read(path)
            } catch {
                Console.note("\(path): cannot read: \(error.message)")
                unreadable = true
                continue
            }
            for copy in file.copies {
                copies += 1
                let source = path + (copy.line.map { ":\($0)" } ?? "")
                let reading = MessageReader.read(copy.bytes, policy: format)
                guard let message = reading.message else {
                    invalid += 1
                    let rejection = reading.rejection!
                    Console.out("\(source): invalid: \(rejection.code.rawValue): \(rejection.detail)")
                    continue
                }
                let origin = message.origin.rawValue
                if let rejection = MessageReader.read(copy.bytes, policy: signatures).rejection {
                    switch rejection.code {
                    case .unknownOrigin:
                        unverified.insert(origin)
                    case .unsigned:
                        invalid += 1
                        Console.out("\(source): unsigned: \(origin) #\(message.seq) has no sig; a node that requires signatures (the default) quarantines it (sign it: strikectl sign \(path))")
                    case .badSignature:
                        invalid += 1
                        Console.out("\(source): bad signature: \(origin) #\(message.seq) does not match \(origin)'s key on this computer: it was changed after it was signed, or signed with another key")
                        continue
                    default:
                        invalid += 1
                        Console.out("\(source): invalid: \(rejection.code.rawValue): \(rejection.detail)")
                    }
                }
                let envelope = "\(origin) \(message.seq)"
                if let earlier = versions[envelope] {
                    if earlier.content != message.content {
                        invalid += 1
                        Console.out("\(source): conflict: \(origin) #\(message.seq) differs from the version in \(earlier.source); every node would reject both")
                    }
                    continue
                }
                versions[envelope] = (message.content, source)
                if let known, case .object(let object)? = try? JSONReader.read(copy.bytes), case .object(let data)? = object["data"] {
                    let values = Dictionary(data.members.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
                    for warning in known.warnings(for: New.namedIDs(values, type: message.type.rawValue), file: namesPath) {
                        Console.out("\(source): \(warning)")
                    }
                }
                found[origin, default: []].append((message.seq, message.sentAt, source))
            }
        }
        for origin in unverified.sorted() {
            Console.out("\(origin): not verified here (no key for \(origin)): the node checks it with its keyring")
        }
        let counters = (try? SeqState(path: state ?? SeqState.defaultPath).read()) ?? [:]
        var incomplete = 0
        for origin in found.keys.sorted() {
            let seqs = found[origin]!.map(\.seq)
            Console.out(StickCheck.numbers(origin, seqs, counter: counters[origin]?.seq))
            if StickCheck.lacksNumbers(seqs, counter: counters[origin]?.seq) { incomplete += 1 }
            var latest: (seq: Int64, sentAt: Timestamp, source: String)?
            for message in found[origin]!.sorted(by: { $0.seq < $1.seq }) {
                if let latest, message.sentAt < latest.sentAt {
                    Console.out("\(message.source): back in time: \(origin) #\(message.seq) is dated \(message.sentAt.text), before #\(latest.seq) (\(latest.sentAt.text)): was the clock wrong when it was written?")
                } else {
                    latest = message
                }
            }
        }
        Console.out("checked \(copies) \(copies == 1 ? "message" : "messages") in \(files.count) \(files.count == 1 ? "file" : "files"): \(invalid == 0 ? "all valid" : "\(invalid) invalid")\(incomplete == 0 ? "" : ", numbers missing for \(incomplete) \(incomplete == 1 ? "origin" : "origins") (above)")\(unverified.isEmpty ? "" : ", \(unverified.count) \(unverified.count == 1 ? "origin" : "origins") not verified here")")
        if invalid > 0 { throw ExitCode(1) }
        if unreadable { throw ExitCode(2) }
    }

    /// Whether a number is missing: one below the highest here, or one this
    /// computer wrote after it (a stick that lacks #1 is not complete).
    static func lacksNumbers(_ seqs: [Int64], counter: Int64?) -> Bool {
        let distinct = Set(seqs)
        guard let highest = distinct.max() else { return false }
        return Int64(distinct.count) < highest || (counter ?? 0) > highest
    }

    /// "granit-plant: #1-#4, #6; missing #5; written here up to #8: #7-#8 are not here".
    static func numbers(_ origin: String, _ seqs: [Int64], counter: Int64?) -> String {
        let sorted = Array(Set(seqs)).sorted()
        var ranges: [(Int64, Int64)] = []
        for seq in sorted {
            if let last = ranges.last, last.1 + 1 == seq { ranges[ranges.count - 1].1 = seq } else { ranges.append((seq, seq)) }
        }
        func text(_ range: (Int64, Int64)) -> String { range.0 == range.1 ? "#\(range.0)" : "#\(range.0)-#\(range.1)" }
        var missing: [(Int64, Int64)] = []
        var next: Int64 = 1
        for range in ranges {
            if range.0 > next { missing.append((next, range.0 - 1)) }
            next = range.1 + 1
        }
        var line = "\(origin): \(ranges.map(text).joined(separator: ", "))"
        line += missing.isEmpty ? "; none missing before #\(sorted.last!)" : "; missing \(missing.map(text).joined(separator: ", "))"
        if let counter {
            if counter > sorted.last! {
                line += "; this computer wrote up to #\(counter): \(text((sorted.last! + 1, counter))) \(counter == sorted.last! + 1 ? "is" : "are") not here"
            } else {
                line += "; this computer wrote up to #\(counter)"
            }
        }
        return line
    }

    /// Public keys: each .pub file of the key directory and of --keys, and
    /// the public half of each secret key in the key directory.
    private func loadKeys() throws(Failure) -> Keyring {
        var found: [Slug: [[UInt8]]] = [:]
        for directory in [keys.directory] + keyDirectories {
            guard let names = try? Sys.listDirectory(directory) else {
                if directory != keys.directory { throw Failure("cannot read the key directory \(directory)") }
                continue
            }
            for name in names.sorted() where !name.hasPrefix(".") {
                let path = directory + "/" + name
                if name.hasSuffix(".pub"), let origin = Slug(String(name.dropLast(4))) {
                    guard case .bytes(let bytes, _)? = try? Sys.readFile(path, limit: KeyText.maximumFileBytes) else { continue }
                    do {
                        found[origin, default: []] += try KeyText.publicKeys(bytes, file: path)
                    } catch {
                        Console.note("strikectl: warning: \(error.description): this file was ignored")
                    }
                } else if directory == keys.directory, name.hasSuffix(".key"), let origin = Slug(String(name.dropLast(4))),
                          let key = try? SigningKey.load(file: path) {
                    found[origin, default: []].append(key.publicKey)
                }
            }
        }
        do {
            return try Keyring(directory: keys.directory, keys: found)
        } catch {
            throw Failure("\(error)")
        }
    }

    /// The message files under `path`: itself, or its *.json and *.jsonl
    /// files, directories followed (not symlinked ones), hidden names skipped.
    private func collect(_ path: String, into files: inout [String], unreadable: inout Bool, depth: Int = 0) {
        guard let info = try? Sys.lstatPath(path) else {
            Console.note("\(path): cannot read: it does not exist")
            unreadable = true
            return
        }
        guard info.isDirectory else {
            if depth == 0 || path.hasSuffix(".json") || path.hasSuffix(".jsonl") { files.append(path) }
            return
        }
        guard depth < 8, let names = try? Sys.listDirectory(path) else { return }
        for name in names.sorted() where !name.hasPrefix(".") {
            collect(path + "/" + name, into: &files, unreadable: &unreadable, depth: depth + 1)
        }
    }
}
