import ArgumentParser
import StrikeCore
import StrikeOS
import VarlinkProtocol

struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hand message files to strikecd.",
        discussion: """
            By default each file is dropped atomically into the spool's incoming/ directory
            (written in tmp/, synced, then moved), where strikecd picks it up: this works
            even while strikecd is stopped. Files are checked first; an invalid file is not
            dropped unless --force is given, and a name strikecd never reads (*.tmp, *.part,
            a sync tool's conflict copy) never is.

            With --socket-submit, the messages are sent over the socket instead (needs group
            strikecd-admin) and each message's result is printed.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var spool: SpoolOptions

    @Flag(help: "Send the messages over the socket (Admin.Submit) instead of the spool.")
    var socketSubmit = false

    @Flag(help: "Drop files into the spool even if they contain invalid messages.")
    var force = false

    @Argument(help: ArgumentHelp("Message files (*.json one message, *.jsonl one per line).", valueName: "file"),
              completion: .file(extensions: ["json", "jsonl"]))
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one message file") }
        if socketSubmit && force { throw ValidationError("--force only applies to the spool") }
    }

    func run() throws {
        let policy = ValidationPolicy(now: Sys.now())
        let read = try files.map { path throws(Failure) in try MessageFile.read(path) }
        // Signatures are the daemon's to judge (its keyring), but an unsigned
        // message is worth a word before it is quarantined there.
        let count = read.flatMap(\.copies).filter { copy in
            MessageReader.read(copy.bytes, policy: policy).message.map { $0.sig == nil } ?? false
        }.count
        if count > 0 {
            Console.note("strikectl: note: \(count) \(count == 1 ? "message is" : "messages are") not signed; a strikecd that requires signatures (the default) quarantines \(count == 1 ? "it" : "them") as unsigned (sign with `strikectl sign FILE`)")
        }
        if socketSubmit { return try submitOverSocket(read, policy: policy) }
        // Dropped under such a name, a file would wait in incoming/ for ever.
        let refusals = files.compactMap(SpoolDrop.refusal(for:))
        if !refusals.isEmpty {
            for refusal in refusals { Console.note(refusal) }
            throw Failure("\(refusals.count) \(refusals.count == 1 ? "file has a name" : "files have names") strikecd never reads: nothing was dropped", status: Failure.usage)
        }
        var invalid = 0
        for file in read {
            for copy in file.copies {
                if let rejection = MessageReader.read(copy.bytes, policy: policy).rejection {
                    invalid += 1
                    Console.note("\(file.path)\(copy.line.map { ":\($0)" } ?? ""): \(rejection.code.rawValue): \(rejection.detail)")
                }
            }
        }
        if invalid > 0 && !force {
            throw Failure("\(invalid) invalid \(invalid == 1 ? "message" : "messages"): nothing was dropped (fix them, or use --force to let strikecd quarantine them)")
        }
        let drop = SpoolDrop(spool: spool.spoolPath)
        for file in read {
            let name = try drop.drop(file.bytes, originalName: file.path)
            if connection.json {
                printJSON(.record(["file": .string(file.path), "incoming": .string(name)]))
            } else {
                Console.out("\(file.path) → \(spool.spoolPath)/incoming/\(name)")
            }
        }
    }

    private func submitOverSocket(_ read: [MessageFile], policy: ValidationPolicy) throws {
        var messages: [JSONValue] = []
        var sources: [String] = []
        for file in read {
            for copy in file.copies {
                let source = "\(file.path)\(copy.line.map { ":\($0)" } ?? "")"
                guard case .object? = try? JSONReader.read(copy.bytes) else {
                    let reason = MessageReader.read(copy.bytes, policy: policy).rejection
                    throw Failure("\(source): \(reason?.code.rawValue ?? "json"): \(reason?.detail ?? "not a JSON object"): only JSON objects can be sent over the socket (drop the file into the spool to have it quarantined)")
                }
                messages.append(try! JSONReader.read(copy.bytes))
                sources.append(source)
            }
        }
        if messages.count > AdminCall.maximumMessages {
            throw Failure("\(messages.count) messages: at most \(AdminCall.maximumMessages) can be sent at once (split the files, or drop them into the spool)")
        }
        let reply = try connection.call(AdminCall.submit(messages).call)
        if connection.json { return printJSON(.object(reply)) }
        var table = Table("SOURCE", "ORIGIN", "SEQ", "OUTCOME", "DETAIL")
        var rejected = 0
        for result in reply.array("results").compactMap(\.objectValue) {
            let index = Int(result.int("index") ?? -1)
            let source = sources.indices.contains(index) ? sources[index] : "?"
            if result.string("outcome") == "rejected" { rejected += 1 }
            let detail = result.string("code").map { "\($0): \(result.cell("detail"))" } ?? "-"
            table.add(source, result.cell("origin"), result.cell("seq"), result.cell("outcome"), detail)
        }
        Console.out(table.render(width: Table.terminalWidth))
        if rejected > 0 { throw Failure("\(rejected) of \(messages.count) rejected") }
    }
}

struct Requeue: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send rejected copies back to incoming/ to be judged afresh (needs group strikecd-admin).",
        discussion: """
            Name what to requeue as `strikectl rejected` shows it: by ID (at least 8 of its
            hexadecimal digits), by SOURCE (a file, or file:line of a .jsonl), or all of an
            origin's (--origin) or of one reason (--reason, e.g. unknown-origin once its key
            is in the keyring). A name in SPOOL/quarantine/ also works. Each rejected
            version's quarantined copies are found by what they hold and moved back to
            incoming/, and the version is forgotten, so that it is judged afresh.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Requeue every rejected copy of this origin.") var origin: String?
    @Option(help: ArgumentHelp("Requeue every rejected copy with this reason code.", valueName: "code")) var reason: String?
    @Argument(help: ArgumentHelp("An ID or SOURCE from `strikectl rejected`, or a file name in SPOOL/quarantine/.", valueName: "id|source|name"))
    var targets: [String] = []

    func validate() throws {
        if targets.isEmpty && origin == nil && reason == nil {
            throw ValidationError("say what to requeue: an ID or SOURCE from `strikectl rejected`, --origin ORIGIN or --reason CODE")
        }
        for target in targets where target.isEmpty || target.utf8.count > 255 || target.utf8.contains(0) {
            throw ValidationError("\"\(target)\" names no rejected copy")
        }
        try checkIDs(["--origin": origin])
        if let reason, ReasonCode(rawValue: reason) == nil {
            throw ValidationError("--reason \"\(reason)\" is not a reason code (see docs/messages.md, or the CODE column of `strikectl rejected`)")
        }
    }

    func run() throws {
        var rejected: [JSONObject] = []
        try connection.page(.listRejected(page: PageParameters()), key: "rejected", limit: nil) { rejected += $0 }
        // (hash, what to call it), in the order asked.
        var versions: [(hash: String, label: String)] = []
        var names: [String] = []
        func take(_ item: JSONObject) {
            guard let hash = item.string("hash"), !versions.contains(where: { $0.hash == hash }) else { return }
            versions.append((hash, "\(hash.prefix(12)) (\(item.cell("source")))"))
        }
        for item in rejected {
            if let origin, item.string("origin") == origin { take(item) }
            if let reason, item.string("code") == reason { take(item) }
        }
        for target in targets {
            let lowered = target.lowercased()
            let byID = target.count >= 8 && target.allSatisfy(\.isHexDigit) ? rejected.filter { $0.string("hash")?.hasPrefix(lowered) == true } : []
            if byID.count > 1 { throw Failure("\(byID.count) rejected versions have IDs starting with \(lowered); give more digits", status: Failure.usage) }
            let bySource = rejected.filter { $0.string("source") == target }
            let matches = byID.isEmpty ? bySource : byID
            if !matches.isEmpty {
                matches.forEach(take)
            } else if AdminCall.isPlainFileName(target) {
                names.append(target)
            } else {
                throw Failure("\"\(target)\" is neither an ID nor a SOURCE that `strikectl rejected` shows, nor a file name in the quarantine directory", status: Failure.usage)
            }
        }
        if versions.isEmpty && names.isEmpty {
            throw Failure("nothing rejected matches\(origin.map { " --origin \($0)" } ?? "")\(reason.map { " --reason \($0)" } ?? "") (see `strikectl rejected`)")
        }
        for name in names {
            let reply = try connection.call(AdminCall.requeue(name: name).call)
            if connection.json { printJSON(.object(reply)); continue }
            Console.out("\(name) is back in incoming/ as \(reply.cell("name"))")
        }
        for version in versions {
            let reply = try connection.call(AdminCall.requeueRejected(hash: AdminCall.hashBytes(version.hash)!).call)
            if connection.json { printJSON(.object(reply)); continue }
            let requeued = reply.array("names").compactMap { value -> String? in
                if case .string(let text) = value { return text }
                return nil
            }
            Console.out("\(version.label) is back in incoming/ as \(requeued.joined(separator: ", "))")
        }
    }
}

struct Forget: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Forget a rejected version, such as the forged side of a conflict (needs group strikecd-admin).",
        discussion: """
            ID is the version's ID from `strikectl rejected` (at least 8 of its hexadecimal digits, \
            enough to name one version), or its whole hash from `strikectl rejected --json`. If the \
            version was one of two valid versions of an origin and seq, the other is applied again. \
            A quarantined copy of it stays in SPOOL/quarantine; if the same version arrives again, it \
            is judged afresh.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var version: RejectedID

    func run() throws {
        let hash = try version.resolve(connection)
        let reply = try connection.call(AdminCall.forget(hash: hash.bytes).call)
        if connection.json { return printJSON(.object(reply)) }
        if let origin = reply.string("restored_origin") {
            Console.out("forgot \(hash.text.prefix(12)); \(origin) #\(reply.cell("restored_seq")) is applied again")
        } else {
            Console.out("forgot \(hash.text.prefix(12))")
        }
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a rejected version's message, to compare the sides of a conflict (needs group strikecd-admin).",
        discussion: """
            ID is the version's ID from `strikectl rejected`, as for `strikectl forget`. A valid \
            version (a side of a conflict) is printed as its JSON; an invalid copy's bytes are not \
            kept in the database: look at its quarantined copy, named in SOURCE.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var version: RejectedID

    func run() throws {
        let hash = try version.resolve(connection)
        let reply = try connection.call(AdminCall.showRejected(hash: hash.bytes).call)
        if connection.json { return printJSON(.object(reply)) }
        guard let message = reply.string("message") else {
            throw Failure("\(hash.text.prefix(12)) was an invalid copy, whose bytes are not kept: see its quarantined copy (`strikectl rejected` names it)")
        }
        if let value = try? JSONReader.read(Array(message.utf8)) {
            Console.out(JSONWriter.string(value, style: .pretty))
        } else {
            Console.out(message)
        }
    }
}

/// The ID of a rejected version, as `strikectl rejected` shows it: a prefix of its hash.
struct RejectedID: ParsableArguments {
    @Argument(help: "The rejected version's ID (a prefix of its hash).") var id: String

    func validate() throws {
        guard id.count >= 8, id.count <= 64, id.allSatisfy(\.isHexDigit) else {
            throw ValidationError("give at least 8 hexadecimal digits of the version's ID, as `strikectl rejected` shows it")
        }
    }

    /// The whole hash of the one rejected version whose hash starts with `id`.
    func resolve(_ connection: ConnectionOptions) throws(Failure) -> (text: String, bytes: [UInt8]) {
        let prefix = id.lowercased()
        var matches: [String] = []
        if prefix.count == 64 {
            matches = [prefix]
        } else {
            try connection.page(.listRejected(page: PageParameters()), key: "rejected", limit: nil) { items in
                for item in items {
                    if let hash = item.string("hash"), hash.hasPrefix(prefix) { matches.append(hash) }
                }
            }
        }
        switch matches.count {
        case 0: throw Failure("no rejected version has an ID starting with \(prefix); see `strikectl rejected`")
        case 1:
            guard let bytes = AdminCall.hashBytes(matches[0]) else { throw Failure("strikecd listed a malformed hash: \(matches[0])") }
            return (matches[0], bytes)
        default: throw Failure("\(matches.count) rejected versions have IDs starting with \(prefix); give more digits", status: Failure.usage)
        }
    }
}

struct Rescan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make strikecd scan its spool now (needs group strikecd-admin).")

    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let reply = try connection.call(AdminCall.rescan.call)
        if connection.json { return printJSON(.object(reply)) }
        Console.out("strikecd is scanning its spool")
    }
}
