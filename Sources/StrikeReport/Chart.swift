/// A line chart in inline SVG, readable on paper in black and white: the
/// series is told by its line's dash pattern and its markers' shape, not by
/// colour; called actions are dotted vertical lines with their ids; the
/// axes carry labels. `<title>` and `<desc>` say what it shows for screen
/// readers, and the report prints the same numbers as a table beside it.
struct LineChart {
    enum Style {
        /// A solid line with square markers.
        case solid
        /// A dashed line with round markers.
        case dashed
    }

    var title: String
    var description: String
    var yLabel: String
    /// One value per step, in order, each with its axis label.
    var points: [(label: String, value: Int64)]
    /// Index into `points` and the label of each called action.
    var marks: [(index: Int, label: String)]
    var style: Style
    var language: ReportLanguage
    /// A unique prefix for the ids inside this SVG.
    var id: String

    static let width = 680.0, height = 250.0
    static let left = 70.0, right = 20.0, top = 34.0, bottom = 44.0

    /// The axis's step and top: the step is the smallest "nice" number
    /// (1, 2 or 5 times a power of ten) that divides `value` into at most
    /// four steps, and the top the first multiple of it at or above `value`,
    /// so that the ticks fall on round, evenly spaced numbers.
    static func scale(_ value: Int64) -> (step: Int64, top: Int64) {
        guard value > 0 else { return (1, 1) }
        let wanted = value / 4 + (value % 4 == 0 ? 0 : 1)
        var power: Int64 = 1
        while true {
            for factor: Int64 in [1, 2, 5] {
                let (step, overflow) = power.multipliedReportingOverflow(by: factor)
                if overflow { return (value, value) }
                if step >= wanted {
                    let steps = value / step + (value % step == 0 ? 0 : 1)
                    let (top, over) = step.multipliedReportingOverflow(by: steps)
                    return over ? (value, value) : (step, top)
                }
            }
            let (next, overflow) = power.multipliedReportingOverflow(by: 10)
            if overflow { return (value, value) }
            power = next
        }
    }

    var svg: String {
        let w = Self.width, h = Self.height
        let plotWidth = w - Self.left - Self.right, plotHeight = h - Self.top - Self.bottom
        let (tickStep, maximum) = Self.scale(points.map(\.value).max() ?? 0)
        let count = max(points.count, 1)
        func x(_ index: Int) -> Double {
            count == 1 ? Self.left + plotWidth / 2 : Self.left + plotWidth * Double(index) / Double(count - 1)
        }
        func y(_ value: Int64) -> Double { Self.top + plotHeight * (1 - Double(value) / Double(maximum)) }
        func f(_ value: Double) -> String {
            let rounded = (value * 10).rounded() / 10
            return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 \(f(w)) \(f(h))\" "
        s += "aria-labelledby=\"\(id)-title \(id)-desc\" class=\"chart\">"
        s += "<title id=\"\(id)-title\">\(escapeHTML(title))</title>"
        s += "<desc id=\"\(id)-desc\">\(escapeHTML(description))</desc>"
        // Grid and y axis: a tick at every step from 0 to the top.
        for tick in 0...(maximum / tickStep) {
            let value = tickStep * tick
            let ty = y(value)
            s += "<line x1=\"\(f(Self.left))\" y1=\"\(f(ty))\" x2=\"\(f(w - Self.right))\" y2=\"\(f(ty))\" class=\"grid\"/>"
            s += "<text x=\"\(f(Self.left - 6))\" y=\"\(f(ty + 4))\" text-anchor=\"end\" class=\"tick\">\(escapeHTML(language.number(value)))</text>"
        }
        s += "<line x1=\"\(f(Self.left))\" y1=\"\(f(Self.top))\" x2=\"\(f(Self.left))\" y2=\"\(f(h - Self.bottom))\" class=\"axis\"/>"
        s += "<line x1=\"\(f(Self.left))\" y1=\"\(f(h - Self.bottom))\" x2=\"\(f(w - Self.right))\" y2=\"\(f(h - Self.bottom))\" class=\"axis\"/>"
        s += "<text x=\"\(f(Self.left))\" y=\"\(f(Self.top - 14))\" class=\"label\">\(escapeHTML(yLabel))</text>"
        // X labels: at most about ten, evenly spaced, the last always.
        let every = max(1, (points.count + 9) / 10)
        for (index, point) in points.enumerated() where index % every == 0 || index == points.count - 1 {
            if index != points.count - 1 && points.count - 1 - index < every / 2 + 1 && index != 0 { continue }
            s += "<line x1=\"\(f(x(index)))\" y1=\"\(f(h - Self.bottom))\" x2=\"\(f(x(index)))\" y2=\"\(f(h - Self.bottom + 4))\" class=\"axis\"/>"
            s += "<text x=\"\(f(x(index)))\" y=\"\(f(h - Self.bottom + 17))\" text-anchor=\"middle\" class=\"tick\">\(escapeHTML(point.label))</text>"
        }
        // Called actions: dotted verticals, labelled along the top.
        for (number, mark) in marks.enumerated() {
            let mx = x(mark.index)
            s += "<line x1=\"\(f(mx))\" y1=\"\(f(Self.top))\" x2=\"\(f(mx))\" y2=\"\(f(h - Self.bottom))\" class=\"mark\"/>"
            s += "<text x=\"\(f(mx + 3))\" y=\"\(f(Self.top + 10 + Double(number % 3) * 11))\" class=\"marklabel\">\(escapeHTML(mark.label))</text>"
        }
        // The series.
        if !points.isEmpty {
            let path = points.enumerated().map { "\(f(x($0.offset))),\(f(y($0.element.value)))" }.joined(separator: " ")
            s += "<polyline points=\"\(path)\" class=\"\(style == .solid ? "line-solid" : "line-dashed")\"/>"
            if points.count <= 60 {
                for (index, point) in points.enumerated() {
                    let (px, py) = (x(index), y(point.value))
                    switch style {
                    case .solid: s += "<rect x=\"\(f(px - 3))\" y=\"\(f(py - 3))\" width=\"6\" height=\"6\" class=\"dot\"/>"
                    case .dashed: s += "<circle cx=\"\(f(px))\" cy=\"\(f(py))\" r=\"3.5\" class=\"dot-open\"/>"
                    }
                }
            }
        }
        s += "</svg>"
        return s
    }
}
