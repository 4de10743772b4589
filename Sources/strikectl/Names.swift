import ArgumentParser
import StrikeCore
import StrikeOS
import VarlinkProtocol

/// The ids a node knows (councils, actions, demands, workplaces), kept on a
/// secretary's laptop as a names file, so that `strikectl new` and `check`
/// can warn about a guessed name (`city-council` for `city-strike-council`):
/// a message naming an id nobody describes is applied, and silently counted
/// apart.
struct NamesFile {
    /// kind ("council", "action", "demand", "workplace") → ids.
    var ids: [String: Set<String>] = [:]

    static let kinds = ["workplace", "council", "demand", "action"]

    static var defaultPath: String {
        let base = environment("XDG_CONFIG_HOME") ?? ((environment("HOME") ?? "/root") + "/.config")
        return base + "/strikectl/names"
    }

    /// Reads `KIND ID` lines (`#` comments); nil when there is no such file.
    static func load(_ path: String) throws(Failure) -> NamesFile? {
        let bytes: [UInt8]
        do {
            guard case .bytes(let read, _) = try Sys.readFile(path, limit: 16 << 20) else {
                throw Failure("\(path) is not a regular file (the names file: see `strikectl names`)")
            }
            bytes = read
        } catch let error as SystemError where error.isNotFound {
            return nil
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("cannot read the names file \(path): \(error)")
        }
        var names = NamesFile()
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count >= 2, !words[0].hasPrefix("#"), kinds.contains(String(words[0])) else { continue }
            names.ids[String(words[0]), default: []].insert(String(words[1]))
        }
        return names
    }

    /// A warning for each id the file does not know, with near matches.
    func warnings(for given: [(kind: String, id: String)], file: String) -> [String] {
        given.compactMap { kind, id in
            let known = ids[kind] ?? []
            if known.contains(id) { return nil }
            let near = NamesFile.nearest(id, in: known)
            let suggestion = near.isEmpty ? "" : "; did you mean \(near.map { "\"\($0)\"" }.joined(separator: " or "))?"
            return "warning: the \(kind) \"\(id)\" is not in the names file \(file)\(suggestion) (a name the node does not know is counted apart: ask the node for the exact id, or refresh the file with `strikectl names`)"
        }
    }

    /// Up to three ids closest to `id`: one contains the other, or has all
    /// its words (`city-council` in `city-strike-council`), or few edits apart.
    static func nearest(_ id: String, in known: Set<String>) -> [String] {
        let words = Set(id.split(separator: "-"))
        let scored = known.compactMap { candidate -> (String, Int)? in
            if candidate.contains(id) || id.contains(candidate) { return (candidate, 0) }
            if words.count > 1, words.isSubset(of: Set(candidate.split(separator: "-"))) { return (candidate, 1) }
            let distance = editDistance(Array(id.utf8), Array(candidate.utf8))
            return distance <= max(2, id.count / 3) ? (candidate, distance) : nil
        }
        return scored.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(3).map(\.0)
    }

    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// Prints the ids a node knows as a names file.
struct Names: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the ids strikecd knows (councils, actions, demands, workplaces) as a names file.",
        discussion: """
            Each line is `KIND ID`. Save it on a secretary's laptop as
            $XDG_CONFIG_HOME/strikectl/names (else ~/.config/strikectl/names) and carry it
            there with the stick; `strikectl new` and `strikectl check` then warn about ids
            it does not know, and suggest the near ones:

              strikectl names > names && (carry it) && cp names ~/.config/strikectl/names
            """)

    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        Console.out("# strikecd's ids, for strikectl's names file: KIND ID")
        let queries: [(String, QueryCall, String)] = [
            ("workplace", .listWorkplaces(region: nil, town: nil, strike: nil, page: PageParameters()), "workplaces"),
            ("council", .listCouncils(page: PageParameters()), "councils"),
            ("demand", .listDemands(category: nil, workplace: nil, page: PageParameters()), "demands"),
            ("action", .listActions(workplace: nil, page: PageParameters()), "actions"),
        ]
        for (kind, query, key) in queries {
            try connection.page(query, key: key, limit: nil) { items in
                for item in items { if let id = item.string("id") { Console.out("\(kind) \(id)") } }
            }
        }
    }
}
