import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrikeCore
import VarlinkProtocol

func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    let text = String(cString: value)
    return text.isEmpty ? nil : text
}

/// How to reach strikecd, and how to print what it says.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "strikecd's socket (default: $STRIKECD_SOCKET, else /run/strikecd/socket).", valueName: "path"),
        completion: .file())
    var socket: String?

    @Flag(name: .long, help: "Print JSON for scripts: one value per line.")
    var json = false

    @Flag(name: .long, help: "Show every cell whole, however wide (tables fit the terminal, or COLUMNS, otherwise).")
    var wide = false

    func validate() throws {
        Table.wide = wide
    }

    var socketPath: String { socket ?? environment("STRIKECD_SOCKET") ?? "/run/strikecd/socket" }

    /// Connects, or fails with the exit status and advice for the user.
    func connect(timeoutSeconds: Int? = 60, interface: String = Interface.query) throws(Failure) -> VarlinkClient {
        do {
            return try VarlinkClient(path: socketPath, timeoutSeconds: timeoutSeconds)
        } catch {
            throw Failure.from(error, interface: interface)
        }
    }

    /// One call, one reply.
    func call(_ call: VarlinkCall) throws(Failure) -> JSONObject {
        let interface = call.interface ?? Interface.query
        let client = try connect(interface: interface)
        do {
            return try client.call(call)
        } catch {
            throw Failure.from(error, interface: interface)
        }
    }

    /// Calls a list method page by page, handing each page's items to `body`,
    /// until the last page or `limit` items.
    func page(_ query: QueryCall, key: String, limit: Int?, _ body: ([JSONObject]) -> Void) throws(Failure) {
        let client = try connect()
        var cursor: String?
        var seen = 0
        repeat {
            let wanted = limit.map { min($0 - seen, Int(PageParameters.maximumLimit)) } ?? Int(PageParameters.maximumLimit)
            if wanted <= 0 { return }
            let reply: JSONObject
            do {
                reply = try client.call(query.with(page: PageParameters(limit: wanted, cursor: cursor)).call)
            } catch {
                throw Failure.from(error, interface: Interface.query)
            }
            var items = reply.array(key).compactMap(\.objectValue)
            if let limit, seen + items.count > limit { items = Array(items.prefix(limit - seen)) }
            seen += items.count
            body(items)
            cursor = reply.string("next")
        } while cursor != nil
    }
}

struct LimitOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Show at most this many (default: all, fetched page by page).", valueName: "n"))
    var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }
}

/// Where the spool is, for commands that drop files into it.
struct SpoolOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "strikecd's spool directory (default: $STRIKECD_SPOOL, else /var/spool/strikecd).", valueName: "dir"),
        completion: .directory)
    var spool: String?

    var spoolPath: String { spool ?? environment("STRIKECD_SPOOL") ?? "/var/spool/strikecd" }
}

extension JSONObject {
    func string(_ key: String) -> String? {
        if case .string(let text)? = self[key] { return text }
        return nil
    }

    func int(_ key: String) -> Int64? {
        if case .number(let number)? = self[key] { return number.int64 }
        return nil
    }

    func bool(_ key: String) -> Bool {
        if case .bool(let flag)? = self[key] { return flag }
        return false
    }

    func array(_ key: String) -> [JSONValue] {
        if case .array(let elements)? = self[key] { return elements }
        return []
    }

    func object(_ key: String) -> JSONObject? {
        self[key]?.objectValue
    }

    /// A cell for a table: the value as text, "-" when absent.
    func cell(_ key: String) -> String {
        switch self[key] {
        case .string(let text)?: text
        case .number(let number)?: number.literal
        case .bool(let flag)?: flag ? "yes" : "no"
        default: "-"
        }
    }
}

/// Prints one JSON value on one line.
func printJSON(_ value: JSONValue) {
    Console.out(JSONWriter.string(value, style: .compact))
}
