import ArgumentParser

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon in the foreground (the default).")

    func run() async throws {
        Console.error("the daemon is not built yet")
        throw ExitCode.failure
    }
}
