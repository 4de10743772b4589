import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrikeCore
import StrikeOS
import StrikeSigning

// SECURITY: secret keys are written once (O_EXCL, 0600, in a 0700
// directory), read only when their mode keeps other users out, and never
// printed, logged or put into an error message. Only public keys are shown.

/// Where a user's secret signing keys are kept: `ORIGIN.key` files.
struct KeyOptions: ParsableArguments {
    @Option(name: .customLong("key-dir"), help: ArgumentHelp(
        "Where secret keys are kept (default: $XDG_CONFIG_HOME/strikectl/keys, else ~/.config/strikectl/keys).", valueName: "dir"),
        completion: .directory)
    var keyDir: String?

    var directory: String {
        if let keyDir { return keyDir }
        let base = environment("XDG_CONFIG_HOME") ?? ((environment("HOME") ?? "/root") + "/.config")
        return base + "/strikectl/keys"
    }

    func secretPath(_ origin: String) -> String { directory + "/" + origin + ".key" }
    func publicPath(_ origin: String) -> String { directory + "/" + origin + ".pub" }

    /// The origin's secret key, or nil when it has none here.
    func key(for origin: String) throws(Failure) -> SigningKey? {
        let path = secretPath(origin)
        if (try? Sys.lstatPath(path)) == nil { return nil }
        do {
            return try SigningKey.load(file: path)
        } catch {
            throw Failure("cannot use the secret key: \(error)")
        }
    }
}

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a signing key pair for an origin.",
        discussion: """
            Writes the secret key to KEY-DIR/ORIGIN.key (mode 0600, in a directory only you
            can enter) and the public key to KEY-DIR/ORIGIN.pub, and prints the public key
            line. Send that line (or the .pub file) to every machine that runs strikecd for
            you; its operator puts it in the keyring as /etc/strikecd/keys/ORIGIN.pub.
            Check it with them over another channel (read it out by phone, say): a key
            swapped on the way would let someone else speak for you.

            The secret key never leaves this machine and is never printed. An existing key
            is never overwritten. From now on `strikectl new` signs this origin's messages,
            and `strikectl sign` signs files.
            """)

    @Argument(help: ArgumentHelp("The origin (a slug) the key will sign for.", valueName: "origin"))
    var origin: String

    @OptionGroup var keys: KeyOptions

    func validate() throws {
        if !Slug.isValid(origin) { throw ValidationError(SlugAdvice.message("the origin", origin)) }
    }

    func run() throws {
        try makePrivateDirectory(keys.directory)
        let key = SigningKey.generate()
        do {
            try key.write(secretTo: keys.secretPath(origin), origin: origin)
        } catch {
            throw Failure("\(error)")
        }
        let line = key.publicLine(origin: origin)
        let publicPath = keys.publicPath(origin)
        do {
            let text = Array("# strikecd public key of origin \(origin): for receivers' keyrings (/etc/strikecd/keys/\(origin).pub)\n\(line)\n".utf8)
            let temporary = publicPath + ".tmp"
            let fd = try Sys.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode: 0o644)
            defer { Sys.close(fd) }
            try Sys.write(fd, text, path: temporary)
            try Sys.fsync(fd, path: temporary)
            try Sys.renameat(AT_FDCWD, temporary, AT_FDCWD, publicPath)
        } catch {
            throw Failure("the secret key was written to \(keys.secretPath(origin)), but the public key could not be: \(error); the line is: \(line)")
        }
        Console.note("secret key: \(keys.secretPath(origin)) (keep it on this machine only)")
        Console.note("public key: \(publicPath); send it to strikecd's operators for /etc/strikecd/keys/\(origin).pub:")
        Console.out(line)
    }

    /// mkdir -p with 0700 for what it creates; refuses a key directory that
    /// other users may enter.
    private func makePrivateDirectory(_ directory: String) throws(Failure) {
        var current = directory.hasPrefix("/") ? "" : "."
        let parts = directory.split(separator: "/")
        for (index, part) in parts.enumerated() {
            current += "/" + part
            do {
                try Sys.mkdir(current, mode: 0o700)
                if index == parts.count - 1 { try Sys.chmod(current, mode: 0o700) }
            } catch where error.errno == EEXIST {
                continue
            } catch {
                throw Failure("cannot create \(current): \(error) (choose another directory with --key-dir)")
            }
        }
        guard let info = try? Sys.statPath(directory), info.isDirectory else {
            throw Failure("\(directory) is not a directory (choose another with --key-dir)")
        }
        if info.st_mode & 0o077 != 0 {
            throw Failure("\(directory) may be entered by other users (mode \(String(info.st_mode & 0o777, radix: 8))): run `chmod 700 \(directory)` first, or choose another with --key-dir")
        }
    }
}

struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign message files in place.",
        discussion: """
            Each message (each line of a .jsonl file) gets a sig: the Ed25519 signature, by
            its origin's secret key in KEY-DIR/ORIGIN.key (or --key), of its canonical form
            without sig (docs/messages.md). Each file is checked first and replaced
            atomically only when all its messages could be signed; a one-line file stays
            one line, others are written with one member per line.

            A message that is signed already but no longer matches its sig was changed
            after it was signed, and may have been sent as it was: it is refused, unless
            --force. Do not change a message that may have been sent; write a new one, which
            supersedes it: `strikectl new TYPE --origin ORIGIN --corrects SEQ …`.

            The origins' counters (--state, as for `strikectl new`) are raised to the highest
            seq signed, so that `strikectl new` never writes the same number again.
            """)

    @OptionGroup var keys: KeyOptions

    @Option(help: ArgumentHelp("Sign with this secret key file, whatever the messages' origin.", valueName: "file"),
            completion: .file(extensions: ["key"]))
    var key: String?

    @Flag(help: "Sign again a message changed after it was signed (only if it was never sent).")
    var force = false

    @Option(help: ArgumentHelp("The seq state file, as for `strikectl new`.", valueName: "file"), completion: .file())
    var state: String?

    @Argument(help: ArgumentHelp("Message files (*.json one message, *.jsonl one per line).", valueName: "file"),
              completion: .file(extensions: ["json", "jsonl"]))
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one message file") }
    }

    func run() throws {
        var signedSeqs: [String: SeqState.Entry] = [:]
        defer {
            // Even when some file failed: those that were signed are numbered.
            if !signedSeqs.isEmpty {
                do {
                    try SeqState(path: state ?? SeqState.defaultPath).update { last in
                        for (origin, signed) in signedSeqs {
                            var entry = last[origin] ?? SeqState.Entry(seq: 0, sentAt: nil)
                            entry.take(seq: signed.seq, sentAt: signed.sentAt!)
                            last[origin] = entry
                        }
                    }
                } catch let failure as Failure {
                    Console.error("the files were signed, but \(failure.message)")
                } catch {
                    Console.error("the files were signed, but the seq state was not updated: \(error)")
                }
            }
        }
        let given = try key.map { path throws(Failure) in
            do { return try SigningKey.load(file: path) } catch { throw Failure("cannot use the secret key: \(error)") }
        }
        var cache: [String: SigningKey] = [:]
        var failed = 0
        let now = Sys.now()
        for path in files {
            let file = try MessageFile.read(path)
            var output: [UInt8] = []
            var problems: [String] = []
            var seqs: [String: SeqState.Entry] = [:]
            let copies = file.copies
            for copy in copies {
                let place = path + (copy.line.map { ":\($0)" } ?? "")
                let reading = MessageReader.read(copy.bytes, policy: ValidationPolicy(now: now))
                guard let message = reading.message, case .object(let object)? = try? JSONReader.read(copy.bytes) else {
                    let rejection = reading.rejection.map { "\($0.code.rawValue): \($0.detail)" } ?? "not a message"
                    problems.append("\(place): \(rejection)")
                    continue
                }
                let origin = message.origin.rawValue
                var signer = given ?? cache[origin]
                if signer == nil {
                    guard let found = try keys.key(for: origin) else {
                        problems.append("\(place): no secret key for origin \(origin) in \(keys.directory) (make one with `strikectl keygen \(origin)`, or give --key)")
                        continue
                    }
                    cache[origin] = found
                    signer = found
                }
                let signedObject = signer!.sign(object)
                if let old = message.sig, !force, case .string(let new)? = signedObject["sig"], old != new {
                    problems.append("""
                        \(place): \(origin) #\(message.seq) no longer matches its sig (changed after it was signed, or \
                        signed with another key): it may have been sent as it was, and two versions of one #\(message.seq) are rejected as a conflict. \
                        Write a new message instead, which supersedes it: `strikectl new \(message.type.rawValue) --origin \(origin) \
                        --corrects \(message.seq) …` (if it was only signed with another key, or never sent, sign it anyway with --force)
                        """)
                    continue
                }
                var entry = seqs[origin] ?? SeqState.Entry(seq: 0, sentAt: nil)
                entry.take(seq: message.seq, sentAt: message.sentAt)
                seqs[origin] = entry
                let signed = JSONValue.object(signedObject)
                let multiline = !file.isLines && copy.bytes.dropLast(while: { $0 == 0x0A || $0 == 0x0D }).contains(0x0A)
                output += JSONWriter.bytes(signed, style: multiline ? .pretty : .compact) + [0x0A]
            }
            if !problems.isEmpty {
                failed += 1
                for problem in problems { Console.note(problem) }
                Console.note("\(path): not signed (unchanged)")
                continue
            }
            if copies.isEmpty {
                failed += 1
                Console.note("\(path): no message in it (unchanged)")
                continue
            }
            try replace(path, with: output)
            for (origin, entry) in seqs {
                var all = signedSeqs[origin] ?? SeqState.Entry(seq: 0, sentAt: nil)
                all.take(seq: entry.seq, sentAt: entry.sentAt!)
                signedSeqs[origin] = all
            }
            Console.note("\(path): signed \(copies.count) \(copies.count == 1 ? "message" : "messages")")
        }
        if failed > 0 {
            throw Failure("\(failed) of \(files.count) \(files.count == 1 ? "file was" : "files were") not signed")
        }
    }

    /// Writes a temporary file beside `path` with its mode, then renames it over.
    private func replace(_ path: String, with bytes: [UInt8]) throws(Failure) {
        let temporary = path + ".signing-\(getpid()).tmp"
        do {
            let mode = (try Sys.statPath(path).st_mode) & 0o777
            let fd = try Sys.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode: mode)
            do {
                try Sys.write(fd, bytes, path: temporary)
                try Sys.fsync(fd, path: temporary)
                Sys.close(fd)
            } catch {
                Sys.close(fd)
                throw error
            }
            try Sys.renameat(AT_FDCWD, temporary, AT_FDCWD, path)
        } catch {
            _ = unlink(temporary)
            throw Failure("cannot write \(path): \(error) (it is unchanged)")
        }
    }
}

extension BidirectionalCollection where Element == UInt8 {
    func dropLast(while predicate: (UInt8) -> Bool) -> SubSequence {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return self[startIndex..<end]
    }
}
