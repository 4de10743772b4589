import ArgumentParser
import VarlinkProtocol
#if canImport(Glibc)
import Glibc
#endif

/// strikectl: ask strikecd what it knows, hand it messages, write new ones.
@main
struct StrikeCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strikectl",
        abstract: "Query and feed strikecd, the strike committees' coordination daemon.",
        discussion: """
            Queries go to strikecd's Varlink socket (--socket, $STRIKECD_SOCKET, default
            /run/strikecd/socket); they need membership of group strikecd, and requeue,
            rescan and submit --socket-submit need group strikecd-admin. Lists show every
            page; --limit stops early. --json prints one JSON value per line for scripts.

            Exit status: 0 success; 1 strikecd answered with an error (e.g. not found) or
            the operation failed; 2 wrong usage; 69 strikecd is not running or did not
            answer; 77 permission denied.

            Shell completion: strikectl --generate-completion-script bash (or zsh, fish).
            See strikectl(1) and docs/protocol.md.
            """,
        version: StrikeVersion.text,
        subcommands: [
            Status.self, Workplaces.self, WorkplaceCommand.self, Delegates.self, DelegateCommand.self, Councils.self,
            CouncilCommand.self, Tree.self, IrregularCommand.self, Demands.self, Report.self,
            Actions.self, Rejected.self, Gaps.self, UnresolvedCommand.self, PeersCommand.self, Watch.self,
            Submit.self, Requeue.self, Show.self, Forget.self, Rescan.self, New.self, SeqCommand.self, Keygen.self, Sign.self, StickCheck.self, Names.self,
        ]
    )

    /// ArgumentParser's own main, with the exit statuses documented above:
    /// usage errors exit 2 (not 64), failures carry their own status.
    static func main() {
        do {
            var command = try parseAsRoot(commandFirst(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch let failure as Failure {
            Console.error(failure.message)
            Glibc.exit(failure.status)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { Console.out(message) }
                Glibc.exit(0)
            }
            if code == .validationFailure {
                // ArgumentParser's message already starts with "Error:" and shows the usage.
                Console.note(message)
                Glibc.exit(Failure.usage)
            }
            if !message.isEmpty { Console.error(message) }
            Glibc.exit(code.rawValue)
        }
    }

    /// The arguments with any options written before the command moved after
    /// it: `strikectl --json --socket S status` as `strikectl status --json
    /// --socket S`, as people write it who know other tools. The command is
    /// the first argument that names one; a value that happens to be a
    /// command's name (`--socket status`) is taken as the command. Options
    /// the command does not have are then refused by name, as always.
    static func commandFirst(_ arguments: [String]) -> [String] {
        guard let first = arguments.first, first.hasPrefix("-"), first != "--" else { return arguments }
        let names = Set(configuration.subcommands.map { $0._commandName })
        guard let command = arguments.firstIndex(where: { names.contains($0) }),
              !arguments[..<command].contains("--") else { return arguments }
        return [arguments[command]] + arguments[..<command] + arguments[(command + 1)...]
    }
}
