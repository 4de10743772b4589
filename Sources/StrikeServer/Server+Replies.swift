import StrikeCore
import StrikeStore

// The one place where the store's records become org.strikecd.Query's wire
// types. Members appear in the order the interface declares them; optional
// fields that are nil are left out (Varlink: absent and null are equal).

/// Builds a JSON object member by member.
struct ObjectBuilder {
    var members: [(key: String, value: JSONValue)] = []

    mutating func set(_ key: String, _ value: JSONValue) { members.append((key, value)) }
    mutating func set(_ key: String, _ value: String) { members.append((key, .string(value))) }
    mutating func set(_ key: String, _ value: Int64) { members.append((key, .number(JSONNumber(value)))) }
    mutating func set(_ key: String, _ value: Int) { set(key, Int64(value)) }
    mutating func set(_ key: String, _ value: Bool) { members.append((key, .bool(value))) }
    mutating func set(_ key: String, _ value: String?) { if let value { set(key, value) } }
    mutating func set(_ key: String, _ value: Int64?) { if let value { set(key, value) } }

    var object: JSONObject { JSONObject(members) }
    var value: JSONValue { .object(object) }
}

enum Replies {
    static func page<Item>(_ key: String, _ page: Page<Item>, _ encode: (Item) -> JSONValue) -> JSONObject {
        var b = ObjectBuilder()
        b.set(key, .array(page.items.map(encode)))
        b.set("next", page.next)
        return b.object
    }

    /// History's reply; the delegates' numbers are the whole state's, so
    /// they are left out of a region's or a workplace's history.
    static func history(_ record: HistoryRecord, overall: Bool) -> JSONObject {
        var b = ObjectBuilder()
        b.set("step", record.step.rawValue)
        b.set("points", .array(record.points.map { point in
            var p = ObjectBuilder()
            p.set("start", Timestamp.utcText(epochSeconds: point.start))
            p.set("striking", point.striking)
            p.set("participants", point.participants)
            if overall {
                p.set("detained", point.detained)
                p.set("taken", point.taken)
                p.set("released", point.released)
            }
            return p.value
        }))
        b.set("newest", record.newest)
        b.set("next", record.next)
        return b.object
    }

    /// HistoryByRegion's reply: one history per region asked for, in the
    /// order asked, on the same steps.
    static func historyByRegion(_ regions: [String], _ records: [HistoryRecord]) -> JSONObject {
        var b = ObjectBuilder()
        b.set("step", (records.first?.step ?? .day).rawValue)
        b.set("regions", .array(zip(regions, records).map { region, record in
            var r = ObjectBuilder()
            r.set("region", region)
            r.set("points", history(record, overall: false)["points"] ?? .array([]))
            return r.value
        }))
        b.set("newest", records.first?.newest)
        b.set("next", records.first?.next)
        return b.object
    }

    static func summary(_ summary: Summary) -> JSONObject {
        summary.json.objectValue ?? JSONObject()
    }

    static func peers(_ peers: [PeerRecord]) -> JSONObject {
        func runs(_ ranges: SeqRanges) -> JSONValue {
            var items: [JSONValue] = []
            for origin in ranges.keys.sorted() {
                for range in ranges[origin]! where items.count < 100 {
                    var b = ObjectBuilder()
                    b.set("origin", origin)
                    b.set("first", range.lowerBound)
                    b.set("last", range.upperBound)
                    items.append(b.value)
                }
            }
            return .array(items)
        }
        func time(_ seconds: Int64?) -> String? { seconds.map { Timestamp.utcText(epochSeconds: $0) } }
        var b = ObjectBuilder()
        b.set("peers", .array(peers.map { peer in
            var p = ObjectBuilder()
            p.set("name", peer.name)
            p.set("last_sent", time(peer.lastSent))
            p.set("last_heard", time(peer.lastHeard))
            p.set("last_report", time(peer.lastReport))
            p.set("waiting", peer.waiting)
            p.set("sent", peer.copiesSent)
            p.set("resent", peer.copiesResent)
            if let lacks = peer.lacks { p.set("lacks", runs(lacks)) }
            p.set("cannot", runs(peer.cannot))
            return p.value
        }))
        return b.object
    }

    static func stateDigest(_ digest: StateDigest) -> JSONObject {
        var b = ObjectBuilder()
        b.set("digest", digest.sha256)
        b.set("applied", digest.applied)
        return b.object
    }

    static func workplace(_ w: WorkplaceRecord) -> JSONValue {
        var b = ObjectBuilder()
        b.set("id", w.id)
        b.set("described", w.described)
        b.set("name", w.name)
        b.set("kind", w.kind?.rawValue)
        b.set("sector", w.sector)
        b.set("town", w.town)
        b.set("region", w.region)
        b.set("ownership", w.ownership?.rawValue)
        b.set("headcount", w.headcount)
        b.set("status", w.status?.rawValue)
        b.set("participants", w.participants)
        b.set("striking", w.striking)
        b.set("reported_at", w.reportedAt)
        return b.value
    }

    static func delegate(_ d: DelegateRecord) -> JSONValue {
        var b = ObjectBuilder()
        b.set("id", d.id)
        b.set("workplace", d.workplace)
        b.set("from_council", d.fromCouncil)
        b.set("council", d.council)
        b.set("status", d.status.rawValue)
        b.set("safety", d.safety?.rawValue)
        b.set("mandate", d.mandate?.rawValue)
        b.set("reported_at", d.reportedAt)
        return b.value
    }

    static func council(_ c: CouncilRecord) -> JSONValue {
        var b = ObjectBuilder()
        b.set("id", c.id)
        b.set("name", c.name)
        b.set("level", c.level.rawValue)
        b.set("area", c.area)
        b.set("active_delegates", c.activeDelegates)
        return b.value
    }

    static func votes(_ v: Votes?) -> JSONValue? {
        guard let v else { return nil }
        var b = ObjectBuilder()
        b.set("for", v.yes)
        b.set("against", v.no)
        b.set("abstain", v.abstain)
        return b.value
    }

    static func demandWorkplace(_ w: DemandWorkplaceRecord) -> JSONValue {
        var b = ObjectBuilder()
        b.set("workplace", w.workplace)
        b.set("adopted", w.adopted)
        if let votes = votes(w.votes) { b.set("votes", votes) }
        b.set("outcome", w.outcome?.rawValue)
        return b.value
    }

    static func demand(_ d: DemandRecord) -> JSONValue {
        var outcomes = ObjectBuilder()
        outcomes.set("presented", d.outcomes.presented)
        outcomes.set("negotiating", d.outcomes.negotiating)
        outcomes.set("won", d.outcomes.won)
        outcomes.set("rejected", d.outcomes.rejected)
        outcomes.set("withdrawn", d.outcomes.withdrawn)
        var b = ObjectBuilder()
        b.set("id", d.id)
        b.set("text", d.text)
        b.set("category", d.category.rawValue)
        b.set("supporters", d.supporters)
        b.set("outcomes", outcomes.value)
        b.set("workplaces", .array(d.workplaces.map(demandWorkplace)))
        b.set("more_workplaces", d.moreWorkplaces)
        return b.value
    }

    static func actionWorkplace(_ w: ActionWorkplaceRecord) -> JSONValue {
        var b = ObjectBuilder()
        b.set("workplace", w.workplace)
        b.set("participants", w.participants)
        return b.value
    }

    static func action(_ a: ActionRecord) -> JSONValue {
        var b = ObjectBuilder()
        b.set("id", a.id)
        b.set("kind", a.kind.rawValue)
        b.set("starts_at", a.startsAt)
        b.set("hours", a.hours)
        b.set("demands", .array(a.demands.map { .string($0) }))
        b.set("text", a.text)
        b.set("joined", a.joined)
        b.set("participants", a.participants)
        b.set("workplaces", .array(a.workplaces.map(actionWorkplace)))
        b.set("more_workplaces", a.moreWorkplaces)
        return b.value
    }

    static func workplaceDetail(_ detail: WorkplaceDetail) -> JSONObject {
        var b = ObjectBuilder()
        b.set("workplace", workplace(detail.workplace))
        b.set("delegates", .array(detail.delegates.map(delegate)))
        b.set("demands", .array(detail.demands.map { d in
            var item = ObjectBuilder()
            item.set("demand", d.demand)
            item.set("text", d.text)
            item.set("category", d.category?.rawValue)
            item.set("adopted", d.adopted)
            if let votes = votes(d.votes) { item.set("votes", votes) }
            item.set("outcome", d.outcome?.rawValue)
            return item.value
        }))
        b.set("actions", .array(detail.actions.map { a in
            var item = ObjectBuilder()
            item.set("action", a.action)
            item.set("kind", a.kind?.rawValue)
            item.set("starts_at", a.startsAt)
            item.set("participants", a.participants)
            return item.value
        }))
        b.set("reports", .array(detail.reports.map(report)))
        b.set("truncated", detail.truncated)
        return b.object
    }

    static func report(_ r: ReportRecord) -> JSONValue {
        var b = ObjectBuilder()
        b.set("message", messageRef(r.message))
        b.set("type", r.type)
        b.set("subject", r.subject)
        return b.value
    }

    static func messageRef(_ m: MessageRef) -> JSONValue {
        var b = ObjectBuilder()
        b.set("at", m.at)
        b.set("origin", m.origin)
        b.set("seq", m.seq)
        return b.value
    }

    static func body(_ body: ElectingBody) -> JSONValue {
        var b = ObjectBuilder()
        b.set("kind", body.kind)
        b.set("id", body.id.rawValue)
        return b.value
    }

    static func mandate(_ m: MandateRecord) -> JSONValue {
        var b = ObjectBuilder()
        b.set("delegate", m.delegate)
        b.set("council", m.council)
        b.set("by", body(m.by))
        b.set("status", m.status.rawValue)
        b.set("elected", messageRef(m.elected))
        b.set("since", messageRef(m.since))
        b.set("other_bodies", .array(m.otherBodies.map(body)))
        return b.value
    }

    static func delegateDetail(_ d: DelegateDetail) -> JSONObject {
        var b = ObjectBuilder()
        b.set("id", d.id)
        b.set("status", d.status?.rawValue)
        if let safety = d.safety {
            var s = ObjectBuilder()
            s.set("status", safety.status.rawValue)
            s.set("until", safety.until)
            s.set("reported", messageRef(safety.reported))
            b.set("safety", s.value)
        }
        b.set("mandates", .array(d.mandates.map(mandate)))
        b.set("truncated", d.truncated)
        b.set("reported_at", d.reportedAt)
        b.set("note", d.note)
        return b.object
    }

    static func councilDetail(_ c: CouncilDetail) -> JSONObject {
        var b = ObjectBuilder()
        b.set("id", c.id)
        b.set("described", c.described)
        b.set("name", c.name)
        b.set("level", c.level?.rawValue)
        b.set("area", c.area)
        b.set("mandates", .array(c.mandates.map(mandate)))
        b.set("seats", .array(c.seats.map(mandate)))
        b.set("elected", .array(c.elected.map(mandate)))
        b.set("reports", .array(c.reports.map(report)))
        b.set("truncated", c.truncated)
        return b.object
    }

    static func irregular(_ items: [IrregularRecord], truncated: Bool) -> JSONObject {
        var b = ObjectBuilder()
        b.set("irregular", .array(items.map { i in
            var item = ObjectBuilder()
            item.set("kind", i.kind.rawValue)
            item.set("delegate", i.delegate)
            item.set("council", i.council)
            item.set("bodies", .array(i.bodies.map(body)))
            item.set("messages", .array(i.messages.map(messageRef)))
            item.set("detail", i.detail)
            return item.value
        }))
        b.set("truncated", truncated)
        return b.object
    }

    static func rejected(_ r: RejectedRecord) -> JSONValue {
        var b = ObjectBuilder()
        b.set("hash", r.hash)
        b.set("origin", r.origin)
        b.set("seq", r.seq)
        b.set("code", r.code)
        b.set("detail", r.detail)
        b.set("source", r.source)
        b.set("first_seen", Timestamp.utcText(epochSeconds: r.firstSeen))
        return b.value
    }

    static func gap(_ g: GapRecord) -> JSONValue {
        var b = ObjectBuilder()
        b.set("origin", g.origin)
        b.set("first", g.first)
        b.set("last", g.last)
        b.set("missing", g.missing)
        return b.value
    }

    static func unresolved(_ u: UnresolvedRecord) -> JSONValue {
        var b = ObjectBuilder()
        b.set("kind", u.kind.rawValue)
        b.set("id", u.id)
        b.set("messages", u.messages)
        return b.value
    }

    static func change(_ c: Change) -> JSONObject {
        var change = ObjectBuilder()
        change.set("origin", c.origin)
        change.set("seq", c.seq)
        change.set("type", c.type)
        change.set("subject", c.subject)
        change.set("outcome", c.outcome.rawValue)
        change.set("code", c.code)
        var b = ObjectBuilder()
        b.set("change", change.value)
        return b.object
    }

    static func submitResults(_ results: [SubmitResult]) -> JSONObject {
        var b = ObjectBuilder()
        b.set("results", .array(results.map { r in
            var item = ObjectBuilder()
            item.set("index", r.index)
            item.set("origin", r.origin)
            item.set("seq", r.seq)
            item.set("outcome", r.outcome.rawValue)
            item.set("code", r.code)
            item.set("detail", r.detail)
            return item.value
        }))
        return b.object
    }
}
