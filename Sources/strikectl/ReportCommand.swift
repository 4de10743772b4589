import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrikeCore
import StrikeOS
import StrikeReport
import VarlinkProtocol

// strikectl report: gathers the state from the Query interface on one
// connection and hands it to StrikeReport's renderer, which owns the
// document. Only what the report shows is asked for: no delegate's note is
// ever read (GetDelegate's `note` is dropped here, never passed on).

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a printable report of the state: one self-contained HTML file.",
        discussion: """
            The Summary with the time of the newest message, strikes per day (charts and a table) and by region, \
            the delegation tree, delegates in custody or missing, demands, actions, and the gaps and irregular \
            delegations to chase. The file has no script and loads nothing: open it in any browser and print it \
            (A4). Long lists of workplaces under one demand or action are cut at 60, with the count of the rest.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: ArgumentHelp("Write the report to this file (default: standard output).", valueName: "file"),
            completion: .file(extensions: ["html"]))
    var output: String?

    @Option(name: .long, help: ArgumentHelp(
        "The report's language: en, be or ru (default: from LC_ALL, LC_MESSAGES or LANG, else en).", valueName: "language"),
        completion: .list(ReportLanguage.allCases.map(\.rawValue)))
    var lang: String?

    func validate() throws {
        if let lang, ReportLanguage(rawValue: lang) == nil {
            throw ValidationError("--lang must be one of \(ReportLanguage.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let language = lang.flatMap(ReportLanguage.init) ?? ReportLanguage.fromEnvironment(Report.languageEnvironment())
        let input = try Report.gather(connection.connect(), now: Clock.now())
        let html = ReportRenderer(input, language: language).render()
        guard let output else { return Console.out(String(html.dropLast())) }
        // Written beside, then renamed: a reader never sees half a report,
        // and a failed write (a full disk) leaves neither file behind.
        let temporary = output + ".tmp"
        do {
            let fd = try Sys.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode: 0o600)
            do {
                defer { Sys.close(fd) }
                try Sys.write(fd, Array(html.utf8), path: temporary)
                try Sys.renameat(AT_FDCWD, temporary, AT_FDCWD, output)
            } catch {
                try? Sys.unlinkat(AT_FDCWD, temporary)
                throw error
            }
        } catch {
            throw Failure("could not write \(output): \(error)")
        }
    }

    static func languageEnvironment() -> [String: String] {
        var values: [String: String] = [:]
        for name in ["LC_ALL", "LC_MESSAGES", "LANG"] { values[name] = environment(name) }
        return values
    }

    /// Everything the report shows, read on one connection.
    static func gather(_ client: VarlinkClient, now: Int64) throws(Failure) -> ReportInput {
        func call(_ query: QueryCall) throws(Failure) -> JSONObject {
            do throws(VarlinkClientError) {
                return try client.call(query.call)
            } catch {
                throw Failure.from(error, interface: Interface.query)
            }
        }
        /// Every item of a paged call, or the first `limit` and whether more remain.
        func all(_ query: QueryCall, key: String, limit: Int? = nil) throws(Failure) -> (items: [JSONObject], more: Bool) {
            var items: [JSONObject] = []
            var cursor: String?
            repeat {
                let wanted = limit.map { min($0 + 1 - items.count, Int(PageParameters.maximumLimit)) } ?? Int(PageParameters.maximumLimit)
                let reply = try call(query.with(page: PageParameters(limit: wanted, cursor: cursor)))
                items += reply.array(key).compactMap(\.objectValue)
                cursor = reply.string("next")
                if let limit, items.count > limit { return (Array(items.prefix(limit)), true) }
            } while cursor != nil
            return (items, false)
        }

        var input = ReportInput(generatedAt: now)
        let summary = try call(.summary)
        let d = summary.object("delegates") ?? JSONObject(), m = summary.object("mandates") ?? JSONObject()
        let c = summary.object("demands") ?? JSONObject(), messages = summary.object("messages") ?? JSONObject()
        var n = ReportInput.Numbers()
        (n.workplaces, n.striking, n.participants) = (summary.int("workplaces") ?? 0, summary.int("striking") ?? 0, summary.int("participants") ?? 0)
        (n.delegatesActive, n.delegatesDetained, n.delegatesMissing) = (d.int("active") ?? 0, d.int("detained") ?? 0, d.int("missing") ?? 0)
        (n.delegatesExiled, n.delegatesRecalled, n.delegatesResigned) = (d.int("exiled") ?? 0, d.int("recalled") ?? 0, d.int("resigned") ?? 0)
        (n.mandatesActive, n.mandatesRecalled, n.mandatesResigned) = (m.int("active") ?? 0, m.int("recalled") ?? 0, m.int("resigned") ?? 0)
        (n.economic, n.democratic) = (c.int("economic") ?? 0, c.int("democratic") ?? 0)
        (n.applied, n.duplicates, n.rejected) = (messages.int("applied") ?? 0, messages.int("duplicates") ?? 0, messages.int("rejected") ?? 0)
        input.numbers = n
        input.digest = try stateDigest(client)

        // History, per day, every page.
        var cursor: String?
        repeat {
            let reply = try call(.history(subject: nil, from: nil, to: nil, step: .day,
                                          page: PageParameters(limit: Int(PageParameters.maximumLimit), cursor: cursor)))
            input.newest = reply.string("newest")
            for p in reply.array("points").compactMap(\.objectValue) {
                guard let start = p.string("start").flatMap(Timestamp.init) else { continue }
                var point = HistoryPoint(start: start.epochSeconds)
                (point.striking, point.participants) = (p.int("striking") ?? 0, p.int("participants") ?? 0)
                (point.detained, point.taken, point.released) = (p.int("detained") ?? 0, p.int("taken") ?? 0, p.int("released") ?? 0)
                input.history.append(point)
            }
            cursor = reply.string("next")
        } while cursor != nil

        // By region, from the workplaces as they stand.
        var regions: [String?: ReportInput.Region] = [:]
        for w in try all(.listWorkplaces(region: nil, town: nil, strike: nil, page: PageParameters()), key: "workplaces").items {
            let name = w.string("region")
            var region = regions[name] ?? ReportInput.Region(name: name, workplaces: 0, striking: 0, participants: 0)
            if w.bool("described") { region.workplaces += 1 }
            if w.bool("striking") {
                region.striking += 1
                region.participants += w.int("participants") ?? 0
            }
            regions[name] = region
        }
        input.regions = regions.values.sorted { ($0.name == nil ? 1 : 0, $0.name ?? "") < ($1.name == nil ? 1 : 0, $1.name ?? "") }

        // The regions with the most striking workplaces now, day by day over
        // the same days as the overall history.
        if let first = input.history.first, let last = input.history.last {
            let named = input.regions.filter { $0.name != nil && $0.striking > 0 }
                .sorted { ($1.striking, $0.name ?? "") < ($0.striking, $1.name ?? "") }
            let names = named.prefix(ReportLimits.regionsOverTime).map { $0.name! }
            if !names.isEmpty {
                // One call for all of them: the server reads the messages once.
                var striking = names.map { _ in [Int64]() }
                var cursor: String?
                repeat {
                    let reply = try call(.historyByRegion(
                        regions: names, from: Timestamp.utcText(epochSeconds: first.start),
                        to: Timestamp.utcText(epochSeconds: last.start), step: .day,
                        page: PageParameters(limit: Int(PageParameters.maximumLimit), cursor: cursor)))
                    for (index, region) in reply.array("regions").compactMap(\.objectValue).enumerated() where index < names.count {
                        striking[index] += region.array("points").compactMap(\.objectValue).map { $0.int("striking") ?? 0 }
                    }
                    cursor = reply.string("next")
                } while cursor != nil
                input.regionHistory = Array(zip(names, striking))
            }
        }

        input.tree = try Tree.walk(call).rows

        // Custody: pseudonym, status, since, until. Never the note.
        var held: [String] = []
        for status in [DelegateStatus.detained, .missing] {
            held += try all(.listDelegates(workplace: nil, council: nil, status: status, page: PageParameters()), key: "delegates").items
                .map { $0.cell("id") }
        }
        for id in Set(held).sorted() {
            let reply = try call(.getDelegate(id: id))
            let safety = reply.object("safety")
            input.custody.append(ReportInput.Custody(
                pseudonym: id, status: safety?.string("status") ?? reply.cell("status"),
                since: safety?.object("reported")?.string("at"), until: safety?.string("until")))
        }

        for demand in try all(.listDemands(category: nil, workplace: nil, page: PageParameters()), key: "demands").items {
            let id = demand.cell("id")
            var workplaces = demand.array("workplaces").compactMap(\.objectValue)
            var more: Int64 = 0
            if demand.bool("more_workplaces") {
                let every = try all(.listDemandWorkplaces(demand: id, page: PageParameters()), key: "workplaces").items
                workplaces = Array(every.prefix(ReportLimits.workplacesPerItem))
                more = Int64(every.count - workplaces.count)
            }
            let outcomes = demand.object("outcomes") ?? JSONObject()
            var counts: [String: Int64] = [:]
            for outcome in DemandOutcome.allCases { counts[outcome.rawValue] = outcomes.int(outcome.rawValue) ?? 0 }
            input.demands.append(ReportInput.Demand(
                id: id, text: demand.cell("text"), category: demand.cell("category"), supporters: demand.int("supporters") ?? 0,
                outcomes: counts, workplaces: workplaces.map { ($0.cell("workplace"), $0.bool("adopted"), $0.string("outcome")) },
                moreWorkplaces: more))
        }

        for action in try all(.listActions(workplace: nil, page: PageParameters()), key: "actions").items {
            let id = action.cell("id")
            var workplaces = action.array("workplaces").compactMap(\.objectValue)
            if action.bool("more_workplaces") {
                workplaces = try all(.listActionWorkplaces(action: id, page: PageParameters()), key: "workplaces",
                                     limit: ReportLimits.workplacesPerItem).items
            }
            let joined = action.int("joined") ?? 0
            input.actions.append(ReportInput.Action(
                id: id, kind: action.cell("kind"), startsAt: action.cell("starts_at"), hours: action.int("hours"),
                joined: joined, participants: action.int("participants") ?? 0,
                workplaces: workplaces.map { ($0.cell("workplace"), $0.int("participants")) },
                moreWorkplaces: max(0, joined - Int64(workplaces.count))))
        }

        let gaps = try all(.gaps(origin: nil, page: PageParameters()), key: "gaps", limit: ReportLimits.gaps)
        input.gaps = gaps.items.map { ReportInput.Gap(origin: $0.cell("origin"), first: $0.int("first") ?? 0, last: $0.int("last") ?? 0) }
        input.moreGaps = gaps.more
        for i in try call(.irregular(limit: nil)).array("irregular").compactMap(\.objectValue) {
            input.irregular.append(ReportInput.Irregular(
                kind: i.cell("kind"), delegate: i.cell("delegate"), council: i.string("council"),
                messages: i.array("messages").compactMap(\.objectValue).map { "\($0.cell("origin"))#\($0.cell("seq"))" }))
        }
        return input
    }

    /// Query.StateDigest's digest, when the server has that method; nil
    /// (the report leaves the line out) when it does not.
    static func stateDigest(_ client: VarlinkClient) throws(Failure) -> String? {
        do throws(VarlinkClientError) {
            return try client.call(VarlinkCall(method: Interface.query + ".StateDigest")).string("digest")
        } catch .reply(let error) where error.name == VarlinkError.service + ".MethodNotFound"
                    || error.name == VarlinkError.service + ".MethodNotImplemented" {
            return nil
        } catch {
            throw Failure.from(error, interface: Interface.query)
        }
    }
}
