import ArgumentParser
import StrikeCore
import StrikeOS
import StrikeSpool
import StrikeStore

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reconcile message files into a database once, then print its Summary.",
        discussion: """
            Each PATH is a message file (*.json: one message; *.jsonl: one per line) or a
            directory whose files directly inside it are read (hidden and temporary names
            are skipped). No input file is changed. The database is created if needed and
            may be the one a running daemon uses.

            Prints the Summary of the whole database as one JSON object on stdout. Rejected
            copies are listed on stderr as `file[:line]: reason: detail`.

            Signatures are judged with the signatures and keyring settings of the
            configuration file, unless --signatures or --keyring say otherwise. The
            database is refused in a directory everybody may write, and is created
            readable by its owner and group only.

            Exit status: 0 when the files were reconciled (even if some copies were
            rejected), 1 when the database could not be used, 78 when the configuration
            or keyring is bad.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The SQLite database to reconcile into.", valueName: "file"))
    var database: String

    @Option(name: .long, help: ArgumentHelp("How far in the future sent_at may be, in seconds.", valueName: "seconds"))
    var maxFutureSkew: Int64 = 15 * 60

    @Option(name: .long, help: ArgumentHelp("Copies per transaction (larger is faster; a crash loses at most the batch in flight, which a re-run applies).", valueName: "count"))
    var batchSize = 10_000

    @Flag(name: .shortAndLong, help: "Do not list rejected copies on stderr.")
    var quiet = false

    @OptionGroup var signing: SignatureOptions

    @Argument(help: ArgumentHelp("Message files or directories of them.", valueName: "path"))
    var paths: [String] = []

    func run() throws {
        let signatures = try signing.rules()
        let store: Store
        do {
            try PrivateFiles.checkDirectory(of: database, holding: "database")
            for warning in try PrivateFiles.restrict(database, extras: [database + "-wal", database + "-shm"]) {
                Console.warning(warning)
            }
        } catch {
            Console.error("cannot use database \(database): \(error)")
            throw ExitCode.failure
        }
        do {
            store = try Store(path: database)
        } catch {
            Console.error("cannot use database \(database): \(error.detail)")
            throw ExitCode.failure
        }
        let (files, skipped) = PathExpansion.expand(paths)
        for skip in skipped where !quiet {
            Console.warning("\(skip.path): skipped: \(skip.why)")
        }
        let now = Sys.now()
        let ingest = PathIngest(store: store, policy: ValidationPolicy(now: now, maximumFutureSkew: maxFutureSkew, signatures: signatures), batchSize: max(1, batchSize))
        let totals: IngestTotals
        do {
            totals = try ingest.run(files, now: now) { event in
                switch event {
                case .rejected(let source, let rejection):
                    if !quiet { Console.note("\(source): \(rejection.code.rawValue): \(rejection.detail)") }
                case .unreadable(let path, let why):
                    Console.warning("\(path): skipped: \(why)")
                case .progress(let totals, let of):
                    Console.note("strikecd: \(totals.files) of \(of) files, \(totals.copies) copies (\(totals.applied) applied, \(totals.duplicates) duplicates, \(totals.rejected) rejected)")
                }
            }
            let summary = try store.summary()
            print(JSONWriter.string(summary.json, style: .pretty))
        } catch {
            Console.error("ingest failed, nothing after the last committed batch was recorded: \(error.detail)")
            throw ExitCode.failure
        }
        if !quiet, totals.copies > 0 {
            Console.note("strikecd: \(totals.copies) copies in \(totals.files) files: \(totals.applied) applied, \(totals.duplicates) duplicates, \(totals.rejected) rejected")
        }
    }
}
