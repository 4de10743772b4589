import ArgumentParser
import StrikeCore

/// Shows each origin's counter, and gives back a number whose message was
/// never sent, so that the origin's next message takes it and no node waits
/// for it for ever.
struct SeqCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seq",
        abstract: "Show the origins' last seq, or give back a number whose message was never sent.",
        discussion: """
            Without options, lists each origin's last used seq and latest sent_at (from --state,
            default $XDG_STATE_HOME/strikectl/seq.json).

            --give-back SEQ gives back the origin's last number when its message was never sent
            (written by mistake, then deleted): the next `strikectl new` takes SEQ again, so no
            node waits for a message that will never come. Only the last number can be given
            back; a message that was sent keeps its number (correct it with
            `strikectl new … --corrects SEQ` instead).
            """)

    @Argument(help: "Only this origin.") var origin: String?
    @Option(help: ArgumentHelp("Give back this number, the origin's last, whose message was never sent.", valueName: "seq"))
    var giveBack: Int64?
    @Option(help: ArgumentHelp("The seq state file.", valueName: "file"), completion: .file()) var state: String?

    func validate() throws {
        if let origin, !Slug.isValid(origin) { throw ValidationError(SlugAdvice.message("the origin", origin)) }
        if giveBack != nil && origin == nil { throw ValidationError("--give-back needs the origin: strikectl seq ORIGIN --give-back SEQ") }
    }

    func run() throws {
        let seqState = SeqState(path: state ?? SeqState.defaultPath)
        if let giveBack, let origin {
            try seqState.update { last in
                guard let entry = last[origin] else {
                    throw Failure("\(origin) has used no number here (\(seqState.path))")
                }
                guard entry.seq == giveBack else {
                    throw Failure("only \(origin)'s last number, #\(entry.seq), can be given back: #\(giveBack) is followed by others, so a node that never gets it will show it missing (if it was never sent, write it again with `strikectl new … --seq \(giveBack)`)")
                }
                last[origin] = SeqState.Entry(seq: entry.seq - 1, sentAt: entry.sentAt)
            }
            Console.note("gave back \(origin) #\(giveBack): the next message of \(origin) will be #\(giveBack) (delete the file written for it, if any: it must never be sent)")
            return
        }
        let entries = try seqState.read()
        var table = Table("ORIGIN", "LAST SEQ", "LATEST SENT_AT")
        for name in entries.keys.sorted() where origin == nil || origin == name {
            table.add(name, String(entries[name]!.seq), entries[name]!.sentAt?.text ?? "-")
        }
        table.print(empty: origin.map { "\($0) has used no number here (\(seqState.path))" } ?? "no origin has used a number here (\(seqState.path))")
    }
}
