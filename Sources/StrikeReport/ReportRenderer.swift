import StrikeCore

/// Renders a report as one self-contained HTML document: inline CSS and
/// SVG, no script, no external reference of any kind, and a
/// Content-Security-Policy that forbids loading anything should a text from
/// a message ever slip past the escaping. It prints on A4.
///
/// Every text from a message or the server is escaped (`escapeHTML`); only
/// the markup written here is raw.
public struct ReportRenderer {
    public let input: ReportInput
    public let language: ReportLanguage
    private let t: Translation

    /// The sections, in order, by the id of their `<section>`.
    public static let sections = ["summary", "over-time", "regions", "delegation", "custody", "demands", "actions", "chase"]

    public init(_ input: ReportInput, language: ReportLanguage) {
        self.input = input
        self.language = language
        self.t = language.strings
    }

    public func render() -> String {
        var w = HTMLWriter()
        w.raw("<!DOCTYPE html>\n<html lang=\"\(language.tag)\"><head><meta charset=\"utf-8\">")
        w.raw("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">")
        w.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        w.element("title", t("title"))
        w.raw("<style>\(Self.css)</style></head><body>")
        w.element("h1", t("title"))
        w.raw("<p class=\"meta\">")
        w.element("span", t("generated", ["time": language.instant(epochSeconds: input.generatedAt)]))
        w.raw("<br>")
        if let newest = input.newest {
            w.element("span", t("newest", ["time": language.instant(newest)]))
        } else {
            w.element("span", t("newest.none"))
        }
        if let digest = input.digest {
            w.raw("<br>")
            w.element("span", t("digest", ["digest": digest]), attributes: "class=\"digest\"")
        }
        w.raw("</p>")
        summary(&w)
        overTime(&w)
        regions(&w)
        delegation(&w)
        custody(&w)
        demands(&w)
        actions(&w)
        chase(&w)
        w.raw("</body></html>\n")
        return w.text
    }

    private func n(_ value: Int64) -> String { language.number(value) }

    private func open(_ w: inout HTMLWriter, _ id: String) {
        w.raw("<section id=\"\(id)\">")
        w.element("h2", t("section.\(id)"))
    }

    private func summary(_ w: inout HTMLWriter) {
        open(&w, "summary")
        let s = input.numbers
        w.raw("<div class=\"headline\">")
        for (key, value) in [("summary.striking", s.striking), ("summary.participants", s.participants), ("summary.workplaces", s.workplaces)] {
            w.raw("<div class=\"big\">")
            w.element("span", n(value), attributes: "class=\"figure\"")
            w.element("span", t(key), attributes: "class=\"caption\"")
            w.raw("</div>")
        }
        w.raw("</div>")
        let rows: [[String]] = [
            [t("summary.delegates"), t("summary.delegates.detail", [
                "active": n(s.delegatesActive), "detained": n(s.delegatesDetained), "missing": n(s.delegatesMissing),
                "exiled": n(s.delegatesExiled), "recalled": n(s.delegatesRecalled), "resigned": n(s.delegatesResigned)])],
            [t("summary.mandates"), t("summary.mandates.detail", [
                "active": n(s.mandatesActive), "recalled": n(s.mandatesRecalled), "resigned": n(s.mandatesResigned)])],
            [t("summary.demands"), t("summary.demands.detail", ["economic": n(s.economic), "democratic": n(s.democratic)])],
            [t("summary.messages"), t("summary.messages.detail", [
                "applied": n(s.applied), "duplicates": n(s.duplicates), "rejected": n(s.rejected)])],
        ]
        w.table(caption: nil, header: [t("column.what"), t("column.count")], rows: rows)
        w.raw("</section>")
    }

    private func overTime(_ w: inout HTMLWriter) {
        open(&w, "over-time")
        let history = input.history
        guard let first = history.first, let last = history.last else {
            w.element("p", t("over-time.none"))
            w.raw("</section>")
            return
        }
        // Called actions, on the day they start (UTC).
        var marks: [(index: Int, label: String)] = []
        for action in input.actions {
            guard let start = Timestamp(action.startsAt) else { continue }
            let day = start.epochSeconds - ((start.epochSeconds % 86_400) + 86_400) % 86_400
            guard day >= first.start, day <= last.start else { continue }
            marks.append((Int((day - first.start) / 86_400), action.id))
        }
        let range = ["first": language.date(epochSeconds: first.start), "last": language.date(epochSeconds: last.start)]
        let labels = history.map { language.date(epochSeconds: $0.start, short: true) }
        let striking = LineChart(
            title: t("chart.striking.title"), description: t("chart.striking.desc", range), yLabel: t("chart.striking.axis"),
            points: zip(labels, history).map { ($0, $1.striking) }, marks: marks, style: .solid, language: language, id: "striking")
        let participants = LineChart(
            title: t("chart.participants.title"), description: t("chart.participants.desc", range), yLabel: t("chart.participants.axis"),
            points: zip(labels, history).map { ($0, $1.participants) }, marks: marks, style: .dashed, language: language, id: "participants")
        w.raw("<figure>\(striking.svg)")
        w.element("figcaption", t("chart.striking.caption"))
        w.raw("</figure><figure>\(participants.svg)")
        w.element("figcaption", t("chart.participants.caption"))
        w.raw("</figure>")
        if !marks.isEmpty {
            w.element("p", t("chart.marks"), attributes: "class=\"note\"")
        }
        let rows = history.map { point in
            [language.date(epochSeconds: point.start), n(point.striking), n(point.participants), n(point.taken), n(point.released), n(point.detained)]
        }
        w.table(caption: t("over-time.table"), header: [
            t("column.day"), t("column.striking"), t("column.participants"), t("column.taken"), t("column.released"), t("column.held"),
        ], rows: rows, numeric: [1, 2, 3, 4, 5], className: "compact")
        w.element("p", t("over-time.note"), attributes: "class=\"note\"")
        w.raw("</section>")
    }

    private func regions(_ w: inout HTMLWriter) {
        open(&w, "regions")
        if input.regions.isEmpty {
            w.element("p", t("regions.none"))
        } else {
            let rows = input.regions.map { region in
                [region.name ?? t("regions.unknown"), n(region.workplaces), n(region.striking), n(region.participants)]
            }
            w.table(caption: nil, header: [t("column.region"), t("column.workplaces"), t("column.striking"), t("column.participants")],
                    rows: rows, numeric: [1, 2, 3])
        }
        let columns = input.regionHistory.filter { $0.striking.count == input.history.count }
        if !columns.isEmpty {
            // The rest: all striking workplaces less those of the regions shown.
            let rest = input.history.indices.map { day in
                input.history[day].striking - columns.reduce(0) { $0 + $1.striking[day] }
            }
            let showRest = rest.contains { $0 != 0 }
            let rows = input.history.indices.map { day in
                [language.date(epochSeconds: input.history[day].start, short: true)] + columns.map { n($0.striking[day]) }
                    + (showRest ? [n(rest[day])] : [])
            }
            w.table(caption: t("regions.over-time"), header: [t("column.day")] + columns.map(\.region) + (showRest ? [t("regions.rest")] : []),
                    rows: rows, numeric: Set(1...(columns.count + (showRest ? 1 : 0))), className: "compact")
        }
        w.raw("</section>")
    }

    private func delegation(_ w: inout HTMLWriter) {
        open(&w, "delegation")
        if input.tree.isEmpty {
            w.element("p", t("delegation.none"))
            w.raw("</section>")
            return
        }
        w.element("p", t("delegation.intro"), attributes: "class=\"note\"")
        // Councils one a line; the workplaces under one council run on in
        // one paragraph, or a 2,000-workplace tree would take 40 pages.
        var items: [[ReportInput.TreeRow]] = []
        for row in input.tree {
            if row.isWorkplace, let last = items.last?.last, last.isWorkplace, last.depth == row.depth {
                items[items.count - 1].append(row)
            } else {
                items.append([row])
            }
        }
        w.raw("<ul class=\"tree\">")
        var depth = 0
        var first = true
        for item in items {
            let row = item[0]
            if first {
                first = false
            } else if row.depth > depth {
                for _ in depth..<row.depth { w.raw("<ul>") }
            } else {
                w.raw("</li>")
                for _ in row.depth..<depth { w.raw("</ul></li>") }
            }
            depth = row.depth
            if row.isWorkplace {
                w.raw("<li class=\"workplaces\">")
                w.element("span", t("level.workplaces") + " ")
                for (index, workplace) in item.enumerated() {
                    if index > 0 { w.raw(", ") }
                    w.element("strong", workplace.body)
                    w.element("span", " (" + (workplace.delegate ?? "—") + ", " + (workplace.mandate.map { t("mandate.\($0)") } ?? "—") + ")")
                }
                continue
            }
            w.raw("<li>")
            w.element("strong", row.body)
            w.element("span", " (" + (row.level.map { t("level.\($0)") } ?? t("level.unknown")) + ")")
            if let delegate = row.delegate {
                w.element("span", " — " + t("delegation.elected", [
                    "delegate": delegate, "mandate": row.mandate.map { t("mandate.\($0)") } ?? "",
                ]))
            }
            if row.shownAbove { w.element("span", " " + t("delegation.above"), attributes: "class=\"note\"") }
        }
        w.raw("</li>")
        for _ in 0..<depth { w.raw("</ul></li>") }
        w.raw("</ul></section>")
    }

    private func custody(_ w: inout HTMLWriter) {
        open(&w, "custody")
        if input.custody.isEmpty {
            w.element("p", t("custody.none"))
        } else {
            let rows = input.custody.map { c in
                [c.pseudonym, t("safety.\(c.status)"), c.since.map(language.instant) ?? "—", c.until.map(language.calendarDate) ?? "—"]
            }
            w.table(caption: nil, header: [t("column.pseudonym"), t("column.status"), t("column.since"), t("column.until")], rows: rows)
            w.element("p", t("custody.note"), attributes: "class=\"note\"")
        }
        w.raw("</section>")
    }

    private func demands(_ w: inout HTMLWriter) {
        open(&w, "demands")
        if input.demands.isEmpty { w.element("p", t("demands.none")) }
        for category in ["economic", "democratic"] {
            let demands = input.demands.filter { $0.category == category }
            guard !demands.isEmpty else { continue }
            w.element("h3", t("category.\(category)"))
            for demand in demands {
                w.raw("<div class=\"item\">")
                w.element("h4", demand.text)
                let outcomes = ["presented", "negotiating", "won", "rejected", "withdrawn"].compactMap { outcome -> String? in
                    guard let count = demand.outcomes[outcome], count > 0 else { return nil }
                    return t("outcome.\(outcome)") + ": " + n(count)
                }
                w.element("p", t("demands.supporters", ["count": n(demand.supporters), "id": demand.id])
                          + (outcomes.isEmpty ? "" : "; " + outcomes.joined(separator: ", ")))
                if !demand.workplaces.isEmpty {
                    let list = demand.workplaces.map { item in
                        item.id + (item.outcome.map { " (" + t("outcome.\($0)") + ")" } ?? "")
                    }
                    w.element("p", t("demands.workplaces") + " " + list.joined(separator: ", ") + more(demand.moreWorkplaces), attributes: "class=\"ids\"")
                }
                w.raw("</div>")
            }
        }
        w.raw("</section>")
    }

    private func more(_ count: Int64) -> String {
        count > 0 ? " " + t("more", ["count": n(count)]) : ""
    }

    private func actions(_ w: inout HTMLWriter) {
        open(&w, "actions")
        if input.actions.isEmpty { w.element("p", t("actions.none")) }
        for action in input.actions {
            w.raw("<div class=\"item\">")
            w.element("h4", t("kind.\(action.kind)") + ": " + action.id)
            var facts = t("actions.starts", ["time": language.instant(action.startsAt)])
            if let hours = action.hours { facts += "; " + t("actions.hours", ["hours": n(hours)]) }
            facts += "; " + t("actions.joined", ["joined": n(action.joined), "participants": n(action.participants)])
            w.element("p", facts)
            if !action.workplaces.isEmpty {
                let list = action.workplaces.map { $0.id + ($0.participants.map { " (" + n($0) + ")" } ?? "") }
                w.element("p", t("actions.workplaces") + " " + list.joined(separator: ", ") + more(action.moreWorkplaces), attributes: "class=\"ids\"")
            }
            w.raw("</div>")
        }
        w.raw("</section>")
    }

    private func chase(_ w: inout HTMLWriter) {
        open(&w, "chase")
        w.element("h3", t("chase.gaps"))
        if input.gaps.isEmpty {
            w.element("p", t("chase.gaps.none"))
        } else {
            let rows = input.gaps.map { gap in
                [gap.origin, gap.first == gap.last ? n(gap.first) : n(gap.first) + "–" + n(gap.last), n(gap.last - gap.first + 1)]
            }
            w.table(caption: nil, header: [t("column.origin"), t("column.numbers"), t("column.missing")], rows: rows, numeric: [2], className: "compact")
            if input.moreGaps { w.element("p", t("chase.gaps.more", ["count": n(Int64(ReportLimits.gaps))]), attributes: "class=\"note\"") }
        }
        w.element("h3", t("chase.irregular"))
        if input.irregular.isEmpty {
            w.element("p", t("chase.irregular.none"))
        } else {
            let rows = input.irregular.map { i in
                [t("irregular.\(i.kind)"), i.delegate, i.council ?? "—", i.messages.joined(separator: " ")]
            }
            w.table(caption: nil, header: [t("column.kind"), t("column.delegate"), t("column.council"), t("column.messages")], rows: rows)
        }
        w.raw("</section>")
    }

    static let css = """
        :root{color-scheme:light}
        body{font-family:"DejaVu Sans","Liberation Sans",Arial,sans-serif;font-size:11pt;line-height:1.35;color:#000;background:#fff;max-width:190mm;margin:1em auto;padding:0 1em}
        h1{font-size:20pt;margin:0 0 .2em}
        h2{font-size:14pt;border-bottom:1.5pt solid #000;margin:1.4em 0 .5em;break-after:avoid;page-break-after:avoid}
        h3{font-size:12pt;margin:1em 0 .3em;break-after:avoid}
        h4{font-size:11pt;margin:.6em 0 .1em;break-after:avoid}
        p{margin:.3em 0}
        .meta{font-size:10pt}
        .digest{font-family:"DejaVu Sans Mono",monospace;word-break:break-all}
        .note{font-size:9pt;font-style:italic}
        .ids{font-size:9pt}
        .headline{display:flex;gap:1.5em;margin:.5em 0 1em}
        .big{border:1.5pt solid #000;padding:.4em .8em;min-width:9em}
        .figure{display:block;font-size:22pt;font-weight:bold}
        .caption{display:block;font-size:10pt}
        table{border-collapse:collapse;margin:.4em 0 .8em;width:100%}
        caption{text-align:left;font-weight:bold;padding:.2em 0}
        th,td{border:.75pt solid #000;padding:.15em .4em;text-align:left;vertical-align:top}
        th{background:#e6e6e6}
        td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
        table.compact{font-size:9.5pt}
        tr{break-inside:avoid;page-break-inside:avoid}
        figure{margin:.5em 0;break-inside:avoid;page-break-inside:avoid}
        figcaption{font-size:9pt;font-style:italic}
        svg.chart{width:100%;height:auto;font-family:inherit}
        svg .grid{stroke:#bbb;stroke-width:.5}
        svg .axis{stroke:#000;stroke-width:1}
        svg .tick{font-size:10px}
        svg .label{font-size:11px;font-weight:bold}
        svg .mark{stroke:#000;stroke-width:1;stroke-dasharray:1 3}
        svg .marklabel{font-size:9px;font-style:italic}
        svg .line-solid{fill:none;stroke:#000;stroke-width:2}
        svg .line-dashed{fill:none;stroke:#000;stroke-width:2;stroke-dasharray:7 4}
        svg .dot{fill:#000}
        svg .dot-open{fill:#fff;stroke:#000;stroke-width:1.5}
        ul.tree,ul.tree ul{list-style:none;margin:0;padding-left:1.4em;border-left:.75pt solid #000}
        ul.tree{padding-left:.6em;border-left:none}
        ul.tree li{margin:.1em 0}
        ul.tree li.workplaces{font-size:9.5pt}
        .item{break-inside:avoid;page-break-inside:avoid;margin-bottom:.5em}
        @page{size:A4;margin:15mm 14mm 16mm}
        @media print{body{margin:0;padding:0;max-width:none;font-size:10pt}h2{margin-top:1em}a{color:#000}}
        """
}
