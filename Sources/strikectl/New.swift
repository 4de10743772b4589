import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrikeCore
import StrikeOS
import StrikeSigning

/// Writes one valid message, so that nobody has to write JSON by hand.
struct New: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a new message for an origin.",
        discussion: """
            TYPE is one of: \(MessageType.allCases.map(\.rawValue).joined(separator: ", ")).
            Give the type's fields as options, e.g.

              strikectl new strike.reported --origin mtz --workplace mtz --status strike --participants 300
              strikectl new delegate.elected --origin mtz --delegate rook --workplace mtz --council city --for 40 --against 3
              strikectl new delegate.elected --origin city --delegate rook --from-council city --council region --for 9 --against 2
              strikectl new delegate.safety --origin city --delegate rook --status arrested --until 2020-09-08

            To correct a report that was sent (800 participants, not 1800), never edit its
            file: write a new message about the same thing, which supersedes it, e.g.

              strikectl new strike.reported --origin mtz --corrects 3 --workplace mtz --status strike --participants 800

            The seq is the origin's next (kept in --state, default
            $XDG_STATE_HOME/strikectl/seq.json) and sent_at is now, in UTC. The message
            is checked as strikecd would check it, then written to --output, dropped into
            the spool with --drop, or else, at a terminal, written to a new file
            ORIGIN-SEQ.json in this directory; into a pipe it is printed as one line
            (`strikectl new … >> reports.jsonl`). Each time, a line on stderr says what
            was written where ("wrote mtz #3 → mtz-3.json"). The seq is used up only
            once the message is written; a number whose message was never sent can be
            given back with `strikectl seq ORIGIN --give-back SEQ`.

            When the origin has a secret key (KEY-DIR/ORIGIN.key, from `strikectl keygen`),
            the message is signed with it.
            """)

    @Argument(help: ArgumentHelp("The message type.", valueName: "type"),
              completion: .list(MessageType.allCases.map(\.rawValue)))
    var type: String

    @Option(help: "The committee or node writing it (a slug).") var origin: String
    @Option(help: "Use this seq instead of the origin's next one.") var seq: Int64?
    @Option(help: ArgumentHelp("This message corrects the origin's earlier message SEQ (it supersedes it).", valueName: "seq"))
    var corrects: Int64?
    @Option(help: ArgumentHelp("The seq state file.", valueName: "file"), completion: .file()) var state: String?
    @Option(help: ArgumentHelp("sent_at instead of now (RFC 3339 with an offset).", valueName: "time")) var sentAt: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the message to this new file.", valueName: "file"),
            completion: .file()) var output: String?
    @Flag(help: "Drop the message into strikecd's spool.") var drop = false
    @OptionGroup var spool: SpoolOptions
    @OptionGroup var keys: KeyOptions
    @Option(help: ArgumentHelp("The names file of the node's ids (default: $XDG_CONFIG_HOME/strikectl/names; see `strikectl names`).",
                               valueName: "file"), completion: .file())
    var names: String?

    @Option(help: "data.workplace") var workplace: String?
    @Option(help: "data.council") var council: String?
    @Option(help: "data.from_council: the council whose delegates elect or recall (instead of --workplace).")
    var fromCouncil: String?
    @Option(help: "data.delegate") var delegate: String?
    @Option(help: "data.demand") var demand: String?
    @Option(help: "data.action") var action: String?
    @Option(help: "data.name") var name: String?
    @Option(help: ArgumentHelp("data.kind: a workplace's or an action's kind.")) var kind: String?
    @Option(help: "data.sector") var sector: String?
    @Option(help: "data.town") var town: String?
    @Option(help: "data.region") var region: String?
    @Option(help: "data.ownership: state, private or mixed.") var ownership: String?
    @Option(help: "data.headcount") var headcount: Int64?
    @Option(help: "data.status: a strike status, a delegate's status or its safety.") var status: String?
    @Option(help: ArgumentHelp("data.until: the end of an arrest of fixed length (YYYY-MM-DD).", valueName: "date")) var until: String?
    @Option(help: "data.participants") var participants: Int64?
    @Option(help: "data.level: local, regional, national or neighbourhood.") var level: String?
    @Option(help: "data.area") var area: String?
    @Option(name: .customLong("for"), help: "data.votes.for") var votesFor: Int64?
    @Option(name: .customLong("against"), help: "data.votes.against") var votesAgainst: Int64?
    @Option(name: .customLong("abstain"), help: "data.votes.abstain") var votesAbstain: Int64?
    @Option(help: "data.quorum") var quorum: Int64?
    @Option(help: "data.note") var note: String?
    @Option(help: "data.text") var text: String?
    @Option(help: "data.category: economic or democratic.") var category: String?
    @Option(help: "data.outcome: presented, negotiating, won, rejected or withdrawn.") var outcome: String?
    @Option(help: ArgumentHelp("data.starts_at (RFC 3339 with an offset).", valueName: "time")) var startsAt: String?
    @Option(help: "data.hours") var hours: Int64?
    @Option(help: ArgumentHelp("data.demands: demand ids, comma-separated.", valueName: "ids")) var demands: String?
    @Option(help: ArgumentHelp("data.by: the council that proposes the demand or calls the action (default: the council whose id is the origin's).",
                               valueName: "council")) var by: String?

    /// Each type's fields in the order of docs/messages.md; `true` marks required.
    static let fields: [MessageType: [(String, Bool)]] = [
        .workplaceReported: [("workplace", true), ("name", false), ("kind", false), ("sector", false), ("town", false),
                             ("region", false), ("ownership", false), ("headcount", false)],
        .strikeReported: [("workplace", true), ("status", true), ("participants", false)],
        .councilFormed: [("council", true), ("name", false), ("level", true), ("area", false)],
        // The electing body is one of workplace and from_council: checked in validate().
        .delegateElected: [("delegate", true), ("workplace", false), ("from_council", false), ("council", true), ("votes", true),
                           ("quorum", false)],
        .delegateRecalled: [("delegate", true), ("workplace", false), ("from_council", false), ("votes", true)],
        .delegateStatus: [("delegate", true), ("status", true), ("note", false)],
        .delegateSafety: [("delegate", true), ("status", true), ("until", false), ("note", false)],
        .demandProposed: [("demand", true), ("text", true), ("category", true), ("by", false)],
        .demandAdopted: [("demand", true), ("workplace", true), ("votes", false)],
        .demandOutcome: [("demand", true), ("workplace", true), ("outcome", true)],
        .actionCalled: [("action", true), ("kind", true), ("starts_at", true), ("hours", false), ("demands", false), ("text", false), ("by", false)],
        .actionJoined: [("action", true), ("workplace", true), ("participants", false)],
    ]

    /// The data fields given on the command line.
    var given: [String: JSONValue] {
        var values: [String: JSONValue] = [:]
        func put(_ key: String, _ value: String?) { if let value { values[key] = .string(value) } }
        func put(_ key: String, _ value: Int64?) { if let value { values[key] = .number(JSONNumber(value)) } }
        put("workplace", workplace); put("council", council); put("from_council", fromCouncil); put("until", until); put("delegate", delegate); put("demand", demand)
        put("action", action); put("name", name); put("kind", kind); put("sector", sector); put("town", town)
        put("region", region); put("ownership", ownership); put("headcount", headcount); put("status", status)
        put("participants", participants); put("level", level); put("area", area); put("quorum", quorum)
        put("note", note); put("text", text); put("category", category); put("outcome", outcome)
        put("starts_at", startsAt); put("hours", hours); put("by", by)
        if let demands {
            values["demands"] = .array(demands.split(separator: ",").map { .string(String($0).trimmingSpaces) })
        }
        if votesFor != nil || votesAgainst != nil || votesAbstain != nil {
            var votes: [(key: String, value: JSONValue)] = []
            if let votesFor { votes.append(("for", .number(JSONNumber(votesFor)))) }
            if let votesAgainst { votes.append(("against", .number(JSONNumber(votesAgainst)))) }
            if let votesAbstain { votes.append(("abstain", .number(JSONNumber(votesAbstain)))) }
            values["votes"] = .object(JSONObject(votes))
        }
        return values
    }

    /// The ids a message names, by kind, for the names file's check.
    /// The id a message of `type` describes is new by nature: not checked.
    static func namedIDs(_ values: [String: JSONValue], type: String) -> [(kind: String, id: String)] {
        let described = ["workplace.reported": "workplace", "council.formed": "council", "demand.proposed": "demand",
                         "action.called": "action"][type]
        var named: [(kind: String, id: String)] = []
        for kind in NamesFile.kinds where kind != described { if case .string(let id)? = values[kind] { named.append((kind, id)) } }
        if case .array(let ids)? = values["demands"] {
            for case .string(let id) in ids { named.append(("demand", id)) }
        }
        if case .string(let id)? = values["by"] { named.append(("council", id)) }
        return named
    }

    static func option(_ field: String) -> String {
        field == "votes" ? "--for/--against[/--abstain]" : "--" + field.replacingUnderscores
    }

    func validate() throws {
        guard let messageType = MessageType(rawValue: type) else {
            throw ValidationError("unknown type \"\(type)\": one of \(MessageType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if !Slug.isValid(origin) { throw ValidationError(SlugAdvice.message("--origin", origin)) }
        if let seq, seq < 1 { throw ValidationError("--seq must be at least 1") }
        if output != nil && drop { throw ValidationError("use either --output or --drop, not both") }
        let fields = New.fields[messageType]!
        let allowed = Set(fields.map(\.0))
        let given = self.given
        for key in given.keys.sorted() where !allowed.contains(key) {
            throw ValidationError("\(New.option(key)) does not apply to \(type) (it takes \(fields.map { New.option($0.0) }.joined(separator: ", ")))")
        }
        // An election or a recall needs one electing body: listed with the rest when neither is given.
        let needsBody = (messageType == .delegateElected || messageType == .delegateRecalled)
            && given["workplace"] == nil && given["from_council"] == nil
        let missing = fields.compactMap { field, required -> String? in
            if needsBody && field == "workplace" { return "--workplace or --from-council" }
            return required && given[field] == nil ? New.option(field) : nil
        }
        if !missing.isEmpty {
            throw ValidationError("\(type) needs \(missing.count == 1 ? "" : "these \(missing.count) options: ")\(missing.joined(separator: ", "))")
        }
        for field in ["workplace", "council", "from_council", "delegate", "demand", "action", "by"] {
            if case .string(let text)? = given[field], !Slug.isValid(text) { throw ValidationError(SlugAdvice.message(New.option(field), text)) }
        }
        if case .array(let ids)? = given["demands"] {
            for case .string(let text) in ids where !Slug.isValid(text) { throw ValidationError(SlugAdvice.message("--demands", text)) }
        }
        if let corrects, corrects < 1 { throw ValidationError("--corrects must be at least 1") }
        if messageType == .delegateElected || messageType == .delegateRecalled,
           given["workplace"] != nil && given["from_council"] != nil {
            throw ValidationError("\(type) needs one electing body: --workplace or --from-council, not both")
        }
        if given["votes"] != nil && (votesFor == nil || votesAgainst == nil) {
            throw ValidationError("votes need both --for and --against (--abstain is optional)")
        }
    }

    func run() throws {
        let messageType = MessageType(rawValue: type)!
        let now = Clock.now()
        let sentAtText = sentAt ?? Timestamp.utcText(epochSeconds: now)
        let values = given
        let data = JSONObject(New.fields[messageType]!.compactMap { field, _ in values[field].map { (key: field, value: $0) } })
        // Before the seq is taken: a key that cannot be used stops here.
        let signer = try keys.key(for: origin)
        let seqState = SeqState(path: state ?? SeqState.defaultPath)
        if sentAt == nil, let warning = Clock.warning(now: now) { Console.note(warning) }
        let namesPath = names ?? NamesFile.defaultPath
        if let known = try NamesFile.load(namesPath) {
            for warning in known.warnings(for: New.namedIDs(values, type: type), file: namesPath) { Console.note(warning) }
        } else if names != nil {
            throw Failure("no names file \(namesPath)")
        }
        try seqState.update { last in
            let previous = last[origin]
            let number = seq ?? ((previous?.seq ?? 0) + 1)
            if let corrects, corrects >= number || corrects > (previous?.seq ?? 0) {
                throw Failure("--corrects \(corrects): \(origin) has not written #\(corrects) yet (its last is #\(previous?.seq ?? 0)); a correction names a message sent before it", status: Failure.usage)
            }
            var value = JSONValue.record([
                "v": 1, "origin": .string(origin), "seq": .number(JSONNumber(number)), "sent_at": .string(sentAtText),
                "type": .string(type), "data": .object(data),
            ])
            if let signer, case .object(let object) = value {
                value = .object(signer.sign(object))
            }
            let bytes = JSONWriter.bytes(value, style: .compact)
            let reading = MessageReader.read(bytes, policy: ValidationPolicy(now: now))
            if let rejection = reading.rejection {
                throw Failure("the message would be rejected: \(rejection.code.rawValue): \(rejection.detail)", status: Failure.usage)
            }
            let message = reading.message!
            // Messages are ordered by sent_at: one dated before the origin's
            // previous message would count as older than it (a correction
            // would be overruled by what it corrects).
            if let previous, number > previous.seq, let latest = previous.sentAt, message.sentAt < latest {
                let cause = sentAt == nil ? "this computer's clock is behind (\(Clock.howToFix))" : "--sent-at is too early"
                throw Failure("""
                    sent_at \(message.sentAt.text) is before that of \(origin)'s previous message, #\(previous.seq) \
                    (\(latest.text)): every node would take it as older, and keep #\(previous.seq)'s values over it. \
                    Either \(cause). Nothing was written; no seq was used.
                    """, status: Failure.usage)
            }
            let written = try write(bytes + [0x0A], origin: origin, seq: number)
            Console.note("wrote \(origin) #\(number) → \(written)")
            if let corrects {
                Console.note("#\(number) corrects #\(corrects): every node takes its values over #\(corrects)'s, which stays as it was (send #\(number) like any message)")
            }
            var entry = last[origin] ?? SeqState.Entry(seq: 0, sentAt: nil)
            entry.take(seq: number, sentAt: message.sentAt)
            last[origin] = entry
        }
    }

    /// Where the message goes: the spool (--drop), --output, a new file named
    /// after origin and seq when stdout is a terminal (printed on a screen, a
    /// message is lost, and its seq with it), else stdout. Returns what to
    /// call it in the "wrote" line.
    private func write(_ bytes: [UInt8], origin: String, seq: Int64) throws -> String {
        if drop {
            let name = try SpoolDrop(spool: spool.spoolPath).drop(bytes, originalName: "\(origin)-\(seq).json")
            return "\(spool.spoolPath)/incoming/\(name)"
        }
        if let path = output ?? (isatty(STDOUT_FILENO) == 1 ? "\(origin)-\(seq).json" : nil) {
            do {
                let fd = try Sys.open(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
                defer { Sys.close(fd) }
                try Sys.write(fd, bytes, path: path)
                try Sys.fsync(fd, path: path)
            } catch {
                let advice = error.errno != EEXIST ? ""
                    : output == nil ? " (it exists: is #\(seq) written already? see `strikectl seq \(origin)`; or give -o FILE)"
                    : " (it exists: choose another name)"
                throw Failure("cannot write \(path): \(error)\(advice); no seq was used",
                              status: error.errno == EACCES ? Failure.permission : Failure.failed)
            }
            return path
        }
        Console.out(String(decoding: bytes.dropLast(), as: UTF8.self))
        return "standard output"
    }
}

extension String {
    var trimmingSpaces: String {
        String(String.UnicodeScalarView(unicodeScalars.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()))
    }

    var replacingUnderscores: String {
        String(String.UnicodeScalarView(unicodeScalars.map { $0 == "_" ? "-" : $0 }))
    }
}
