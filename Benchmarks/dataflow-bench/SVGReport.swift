import Foundation

/// A self-contained SVG: the timeline of one traced step (one lane per worker,
/// tasks coloured by kind), optionally a simulated schedule of the same step on more
/// cores on the same time scale, above a speedup plot (measured points, simulated curve).
enum SVGReport {
    struct Bar {
        var worker: Int
        var start: Double   // seconds from the step's start
        var end: Double
        var kind: Int
        var name: String
    }

    static let palette = ["#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]

    static func render(title: String, bars: [Bar], kindNames: [Int: String], workers: Int,
                       measured: [(threads: Int, speedup: Double)], simulated: [(cores: Int, speedup: Double)],
                       simulatedSchedule: (title: String, bars: [Bar], cores: Int)? = nil) -> String {
        let width = 1000.0, left = 90.0, right = 20.0
        let timelineTop = 50.0
        let measuredLanes = max(workers, (bars.map(\.worker).max() ?? 0) + 1)
        let simLanes = simulatedSchedule?.cores ?? 0
        // The simulated lanes are thinner, so a 16-core schedule fits beside 2 measured lanes.
        let laneHeight = 28.0, simLaneHeight = 14.0
        let simTop = timelineTop + Double(measuredLanes) * laneHeight + (simLanes > 0 ? 24 : 0)
        let timelineHeight = simTop - timelineTop + Double(simLanes) * simLaneHeight
        let legendTop = timelineTop + timelineHeight + 30
        let plotTop = legendTop + 50, plotHeight = 260.0
        let height = plotTop + plotHeight + 60
        let span = max(bars.map(\.end).max() ?? 1e-3, simulatedSchedule?.bars.map(\.end).max() ?? 0, 1e-9)
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left)" y="24" font-size="16" font-weight="bold">\(escape(title))</text>

        """
        // Timeline.
        let plotWidth = width - left - right
        for lane in 0..<measuredLanes {
            let y = timelineTop + Double(lane) * laneHeight
            svg += "<text x=\"\(left - 8)\" y=\"\(f(y + laneHeight * 0.65))\" text-anchor=\"end\">worker \(lane)</text>\n"
            svg += "<rect x=\"\(left)\" y=\"\(f(y + 2))\" width=\"\(f(plotWidth))\" height=\"\(f(laneHeight - 4))\" fill=\"#f4f4f4\"/>\n"
        }
        for bar in bars {
            let x = left + bar.start / span * plotWidth
            let w = max(0.5, (bar.end - bar.start) / span * plotWidth)
            let y = timelineTop + Double(bar.worker) * laneHeight + 3
            let colour = palette[bar.kind % palette.count]
            svg += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(laneHeight - 6))\" fill=\"\(colour)\"><title>\(escape(bar.name)) \(f((bar.end - bar.start) * 1e3)) ms</title></rect>\n"
        }
        if let sim = simulatedSchedule {
            svg += "<text x=\"\(left)\" y=\"\(f(simTop - 6))\" font-weight=\"bold\">\(escape(sim.title))</text>\n"
            for lane in 0..<sim.cores {
                let y = simTop + Double(lane) * simLaneHeight
                svg += "<text x=\"\(left - 8)\" y=\"\(f(y + simLaneHeight * 0.8))\" text-anchor=\"end\" font-size=\"9\">core \(lane)</text>\n"
                svg += "<rect x=\"\(left)\" y=\"\(f(y + 1))\" width=\"\(f(plotWidth))\" height=\"\(f(simLaneHeight - 2))\" fill=\"#f4f4f4\"/>\n"
            }
            for bar in sim.bars {
                let x = left + bar.start / span * plotWidth
                let w = max(0.5, (bar.end - bar.start) / span * plotWidth)
                let y = simTop + Double(bar.worker) * simLaneHeight + 1.5
                svg += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(simLaneHeight - 3))\" fill=\"\(palette[bar.kind % palette.count])\"><title>\(escape(bar.name)) \(f((bar.end - bar.start) * 1e3)) ms (simulated)</title></rect>\n"
            }
        }
        let axisY = timelineTop + timelineHeight + 14
        for tick in 0...5 {
            let t = span * Double(tick) / 5
            svg += "<text x=\"\(f(left + plotWidth * Double(tick) / 5))\" y=\"\(f(axisY))\" text-anchor=\"middle\" fill=\"#555\">\(f(t * 1e3)) ms</text>\n"
        }
        // Legend (only kinds present).
        var lx = left
        for kind in Set(bars.map(\.kind)).sorted() {
            let name = kindNames[kind] ?? "kind \(kind)"
            svg += "<rect x=\"\(f(lx))\" y=\"\(f(legendTop))\" width=\"12\" height=\"12\" fill=\"\(palette[kind % palette.count])\"/>"
            svg += "<text x=\"\(f(lx + 16))\" y=\"\(f(legendTop + 10))\">\(escape(name))</text>\n"
            lx += 22 + Double(name.count) * 6.5 + 14
        }
        // Speedup plot on log2–log2 axes, so that ideal scaling is the diagonal.
        let maxCores = max(measured.map(\.threads).max() ?? 1, simulated.map(\.cores).max() ?? 1, 2)
        let px0 = left, px1 = left + 420, py0 = plotTop + plotHeight, py1 = plotTop
        func px(_ c: Double) -> Double { px0 + log2(max(c, 1)) / log2(Double(maxCores)) * (px1 - px0) }
        func py(_ s: Double) -> Double { py0 - log2(max(s, 1)) / log2(Double(maxCores)) * (py0 - py1) }
        svg += "<text x=\"\(f(px0))\" y=\"\(f(plotTop - 10))\" font-weight=\"bold\">Speedup over one thread (log–log)</text>\n"
        svg += "<line x1=\"\(f(px0))\" y1=\"\(f(py0))\" x2=\"\(f(px1))\" y2=\"\(f(py0))\" stroke=\"black\"/><line x1=\"\(f(px0))\" y1=\"\(f(py0))\" x2=\"\(f(px0))\" y2=\"\(f(py1))\" stroke=\"black\"/>\n"
        var c = 1
        while c <= maxCores {
            svg += "<text x=\"\(f(px(Double(c))))\" y=\"\(f(py0 + 16))\" text-anchor=\"middle\">\(c)</text>\n"
            svg += "<text x=\"\(f(px0 - 6))\" y=\"\(f(py(Double(c)) + 4))\" text-anchor=\"end\">\(c)×</text>\n"
            c *= 2
        }
        svg += "<text x=\"\(f((px0 + px1) / 2))\" y=\"\(f(py0 + 34))\" text-anchor=\"middle\">cores</text>\n"
        svg += "<line x1=\"\(f(px(1)))\" y1=\"\(f(py(1)))\" x2=\"\(f(px(Double(maxCores))))\" y2=\"\(f(py(Double(maxCores))))\" stroke=\"#bbb\" stroke-dasharray=\"4 4\"/>\n"
        if !simulated.isEmpty {
            let points = simulated.map { "\(f(px(Double($0.cores)))),\(f(py($0.speedup)))" }.joined(separator: " ")
            svg += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n"
            for p in simulated {
                svg += "<circle cx=\"\(f(px(Double(p.cores))))\" cy=\"\(f(py(p.speedup)))\" r=\"3\" fill=\"#1f77b4\"><title>simulated \(p.cores) cores: \(f(p.speedup))×</title></circle>\n"
            }
        }
        for p in measured {
            svg += "<rect x=\"\(f(px(Double(p.threads)) - 5))\" y=\"\(f(py(p.speedup) - 5))\" width=\"10\" height=\"10\" fill=\"#d62728\"><title>measured \(p.threads) threads: \(f(p.speedup))×</title></rect>\n"
        }
        let lgx = px1 + 30
        svg += "<rect x=\"\(f(lgx))\" y=\"\(f(py1 + 10))\" width=\"10\" height=\"10\" fill=\"#d62728\"/><text x=\"\(f(lgx + 16))\" y=\"\(f(py1 + 19))\">measured on this machine</text>\n"
        svg += "<line x1=\"\(f(lgx))\" y1=\"\(f(py1 + 35))\" x2=\"\(f(lgx + 10))\" y2=\"\(f(py1 + 35))\" stroke=\"#1f77b4\" stroke-width=\"2\"/><text x=\"\(f(lgx + 16))\" y=\"\(f(py1 + 39))\">simulated from the traced task durations</text>\n"
        svg += "<line x1=\"\(f(lgx))\" y1=\"\(f(py1 + 55))\" x2=\"\(f(lgx + 10))\" y2=\"\(f(py1 + 55))\" stroke=\"#bbb\" stroke-dasharray=\"4 4\"/><text x=\"\(f(lgx + 16))\" y=\"\(f(py1 + 59))\">ideal</text>\n"
        svg += "</svg>\n"
        return svg
    }

    private static func f(_ x: Double) -> String { String(format: "%.2f", x) }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
