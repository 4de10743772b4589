import ArgumentParser
import VarlinkProtocol

/// strikecd: the strike-committee coordination daemon and its one-shot tools.
@main
struct StrikeCD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strikecd",
        abstract: "Reconcile strike committees' message files into one consistent state.",
        discussion: """
            With no subcommand, runs the daemon in the foreground (same as `strikecd run`).
            See strikecd(8) and docs/messages.md.
            """,
        version: StrikeVersion.text,
        subcommands: [Run.self, Ingest.self, Check.self, CheckConfig.self, Import.self],
        defaultSubcommand: Run.self
    )
}
