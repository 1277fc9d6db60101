import Dataflow
import DataflowScheduler
import Foundation

/// Per-epoch curves of the peers (`models.py --json`, records "peer-model-epoch",
/// one thread), by model and framework.
struct PeerCurves {
    /// model → framework → (epoch, train loss, test acc or nil, test loss), by epoch.
    var curves: [String: [String: [(epoch: Int, trainLoss: Double, testAcc: Double?, testLoss: Double)]]] = [:]

    static func load(_ paths: [String]) -> PeerCurves {
        var out = PeerCurves()
        for path in paths {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                progress("peers: cannot read \(path); curves without peers")
                continue
            }
            for line in text.split(separator: "\n") where line.hasPrefix("{") {
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      obj["bench"] as? String == "peer-model-epoch", obj["threads"] as? Int == 1,
                      let model = obj["model"] as? String, let fw = obj["framework"] as? String, fw != "dataflow",
                      let epoch = obj["epoch"] as? Int, let tl = obj["train_loss"] as? Double,
                      let tel = obj["test_loss"] as? Double else { continue }
                var list = out.curves[model, default: [:]][fw, default: []]
                if list.contains(where: { $0.epoch == epoch }) { continue }   // first file wins
                list.append((epoch, tl, obj["test_acc"] as? Double, tel))
                out.curves[model, default: [:]][fw] = list.sorted { $0.epoch < $1.epoch }
            }
        }
        return out
    }
}

enum ModelsSVG {
    static let colours = ["dataflow": "#d62728", "torch": "#1f77b4", "jax": "#2ca02c"]
    static let dashes = ["dataflow": "", "torch": " stroke-dasharray=\"6 3\"", "jax": " stroke-dasharray=\"2 3\""]

    /// One row per model: training loss per epoch (log scale) and test accuracy per
    /// epoch (DAE: test BCE), Dataflow beside the peers.
    static func curves(models: [String], dataflow: [String: [ModelsCommand.EpochRecord]], peers: PeerCurves, title: String) -> String {
        let panelW = 440.0, panelH = 170.0, left = 70.0, gap = 80.0, top = 60.0, rowH = panelH + 70
        let width = left + 2 * panelW + gap + 30
        let height = top + Double(models.count) * rowH + 40
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left)" y="24" font-size="15" font-weight="bold">\(escape(title))</text>

        """
        var lx = left
        for fw in ["dataflow", "torch", "jax"] {
            svg += "<line x1=\"\(f(lx))\" y1=\"42\" x2=\"\(f(lx + 24))\" y2=\"42\" stroke=\"\(colours[fw]!)\" "
                + "stroke-width=\"2\"\(dashes[fw]!)/>"
            svg += "<text x=\"\(f(lx + 30))\" "
                + "y=\"46\">\(fw == "dataflow" ? "Dataflow (Swift)" : fw == "torch" ? "PyTorch" : "JAX")</text>\n"
            lx += 150
        }
        for (row, model) in models.enumerated() {
            let y0 = top + Double(row) * rowH + 20
            var lossSeries: [(String, [(Double, Double)])] = []
            var metricSeries: [(String, [(Double, Double)])] = []
            let isDAE = model == "dae"
            if let h = dataflow[model] {
                lossSeries.append(("dataflow", h.map { (Double($0.epoch), $0.trainLoss) }))
                metricSeries.append(("dataflow", h.compactMap { r in isDAE ? (Double(r.epoch),
                        r.testLoss) : r.testAcc.map { (Double(r.epoch), 100 * $0) } }))
            }
            for fw in ["torch", "jax"] {
                guard let c = peers.curves[model]?[fw] else { continue }
                lossSeries.append((fw, c.map { (Double($0.epoch), $0.trainLoss) }))
                metricSeries.append((fw, c.compactMap { r in isDAE ? (Double(r.epoch), r.testLoss) : r.testAcc.map { (Double(r.epoch),
                                                                                                                      100 * $0) } }))
            }
            svg += panel(x: left, y: y0, w: panelW, h: panelH, title: "\(model): mean training loss per epoch (log scale)",
                         series: lossSeries, logY: true)
            svg += panel(x: left + panelW + gap, y: y0, w: panelW, h: panelH,
                         title: isDAE ? "dae: test reconstruction BCE (clean images)" : "\(model): test accuracy (%)",
                         series: metricSeries, logY: false)
        }
        svg += "</svg>\n"
        return svg
    }

    private static func panel(x: Double, y: Double, w: Double, h: Double, title: String,
                              series: [(String, [(Double, Double)])], logY: Bool) -> String {
        var s = "<text x=\"\(f(x))\" y=\"\(f(y - 8))\" font-weight=\"bold\">\(escape(title))</text>\n"
        s += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(h))\" fill=\"#fafafa\" stroke=\"#999\"/>\n"
        let points = series.flatMap(\.1)
        guard !points.isEmpty else { return s }
        let xMax = max(points.map(\.0).max()!, 2)
        func ty(_ v: Double) -> Double { logY ? log10(max(v, 1e-6)) : v }
        var lo = points.map { ty($0.1) }.min()!, hi = points.map { ty($0.1) }.max()!
        if logY { lo = floor(lo * 2) / 2; hi = ceil(hi * 2) / 2 }
        if !logY && hi - lo < 1e-9 { hi = lo + 1 }
        if !logY { let pad = (hi - lo) * 0.05; lo -= pad; hi += pad }
        if hi - lo < 1e-9 { hi = lo + 1 }
        func px(_ e: Double) -> Double { x + (e - 1) / (xMax - 1) * w }
        func py(_ v: Double) -> Double { y + h - (ty(v) - lo) / (hi - lo) * h }
        for k in 0...4 {
            let tv = lo + (hi - lo) * Double(k) / 4
            let label = logY ? String(format: "%.3g", pow(10, tv)) : String(format: "%.3g", tv)
            let yy = y + h - Double(k) / 4 * h
            s += "<line x1=\"\(f(x))\" y1=\"\(f(yy))\" x2=\"\(f(x + w))\" y2=\"\(f(yy))\" stroke=\"#e4e4e4\"/>"
            s += "<text x=\"\(f(x - 6))\" y=\"\(f(yy + 4))\" text-anchor=\"end\" fill=\"#555\">\(label)</text>\n"
        }
        for e in stride(from: 0, through: Int(xMax), by: 5) where e >= 1 || e == 0 {
            let ee = Double(max(e, 1))
            s += "<text x=\"\(f(px(ee)))\" y=\"\(f(y + h + 14))\" text-anchor=\"middle\" fill=\"#555\">\(max(e, 1))</text>"
        }
        s += "<text x=\"\(f(x + w / 2))\" y=\"\(f(y + h + 28))\" text-anchor=\"middle\">epoch</text>\n"
        for (fw, pts) in series where !pts.isEmpty {
            let poly = pts.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
            s += "<polyline points=\"\(poly)\" fill=\"none\" stroke=\"\(colours[fw] ?? "#000")\" "
                + "stroke-width=\"1.8\"\(dashes[fw] ?? "")><title>\(fw)</title></polyline>\n"
        }
        return s
    }

    /// The timeline of one LSTM training step (digits size) on `workers` workers, traced
    /// with `Function.run(_:recorder:)`. The weight-gradient matmuls are labelled with
    /// their time step, so the SVG shows those of different steps running side by side.
    static func lstmTimeline(data: DigitsData, seed: UInt64, workers: Int, measured: [Int: Double]) throws -> String {
        let program = try ModelsZoo.build(model: "lstm", seed: seed, lr: 3e-3, workers: workers)
        let (order, _) = ModelsInit.epochOrder(seed: seed, epoch: 1)
        let trainIndex = Array(data.trainIndex)
        let batch = data.gather(order.prefix(ModelsInit.batch).map { trainIndex[$0] })
        let feeds = try program.feeds(batch.x, batch.y, nil)
        for _ in 0..<20 { _ = try program.step(feeds) }                // warm up: compile, caches
        // Trace several steps, keep the fastest (the least disturbed by other processes).
        var best: (TraceRecorder, Double)?
        for _ in 0..<15 {
            let recorder = TraceRecorder()
            _ = try program.step.run(feeds, recorder: recorder)
            let ev = recorder.events
            let span = Double((ev.map(\.end).max() ?? 0) - (ev.map(\.start).min() ?? 0)) / 1e9
            if best == nil || span < best!.1 { best = (recorder, span) }
        }
        let recorder = best!.0
        let graph = try program.step.program(for: feeds).taskGraph
        let join = TaskKind.join.rawValue, wgrad = TaskKind.weightGradientMatmul.rawValue
        let steps = ModelsInit.lstmSizes(timing: false).steps
        let stepOf = weightGradientSteps(graph: graph, steps: steps)
        let t0 = recorder.events.map(\.start).min() ?? 0
        let bars = recorder.events.filter { graph.kind(of: $0.task) != join }.map { e in
            var name = graph.name(of: e.task)
            if graph.kind(of: e.task) == wgrad, let t = stepOf[e.task.index] { name = "time step \(t): " + name }
            return SVGReport.Bar(worker: e.worker, start: Double(e.start - t0) / 1e9, end: Double(e.end - t0) / 1e9,
                                 kind: graph.kind(of: e.task), name: name)
        }
        let wg = bars.filter { $0.kind == wgrad }
        var overlaps = 0
        for a in wg where a.worker == 0 {
            for b in wg where b.worker != 0 && b.start < a.end && a.start < b.end && a.name != b.name { overlaps += 1; break }
        }
        let best1 = measured[1]
        let measuredSpeedups = measured.keys.sorted().compactMap { t in best1.map { (threads: t, speedup: $0 / measured[t]!) } }
        let title = "LSTM training step (digits, batch 32, 8 steps, hidden 32), \(workers) worker(s), \(graph.count) tasks; "
            + "\(wg.count) weight-gradient matmuls, \(overlaps) on worker 0 overlap one on another worker (\(cpuModelName()))"
        progress("lstm timeline: \(graph.count) tasks, \(wg.count) weight-gradient matmuls, \(overlaps) overlapping across workers; "
            + "span \(String(format: "%.3f", best!.1 * 1e3)) ms")
        return SVGReport.render(title: title, bars: bars, kindNames: TaskKind.names.filter { $0.key != join }, workers: workers,
                                measured: measuredSpeedups, simulated: [])
    }

    /// The time step of each weight-gradient matmul task, where the task graph tells it:
    /// a weight-gradient matmul of step t reads the gate gradients of step t, and the
    /// backward sweep reaches step t after T−1−t sweeps through the recurrence. We order
    /// the weight-gradient matmuls by their longest path from the loss's first task
    /// (depth) and assign steps T−1, T−2, … to depth groups in order.
    static func weightGradientSteps(graph: TaskGraph, steps: Int) -> [Int: Int] {
        let wgrad = TaskKind.weightGradientMatmul.rawValue
        // Depth by longest path from sources, in topological order.
        var depth = [Int](repeating: 0, count: graph.count)
        var indegree = graph.tasks.map { graph.predecessors(of: $0).count }
        var queue = graph.tasks.filter { indegree[$0.index] == 0 }
        var head = 0
        while head < queue.count {
            let t = queue[head]; head += 1
            for s in graph.successors(of: t) {
                depth[s.index] = max(depth[s.index], depth[t.index] + 1)
                indegree[s.index] -= 1
                if indegree[s.index] == 0 { queue.append(s) }
            }
        }
        let matmuls = graph.tasks.filter { graph.kind(of: $0) == wgrad }
        // Group the weight-gradient matmuls by the depth of the recurrence they hang off:
        // distinct depths sorted; the output layer's (Wo) is the shallowest.
        let depths = Array(Set(matmuls.map { depth[$0.index] })).sorted()
        guard depths.count > 1 else { return [:] }
        // Cluster depths into `steps` groups (plus the output layer) by gaps.
        var result: [Int: Int] = [:]
        var groups: [[Int]] = [[depths[0]]]
        for d in depths.dropFirst() {
            if d - groups[groups.count - 1].last! > 2 { groups.append([d]) } else { groups[groups.count - 1].append(d) }
        }
        // groups[0] is the output layer when there are steps + 1 groups.
        let offset = groups.count == steps + 1 ? 1 : 0
        guard groups.count - offset == steps else { return [:] }
        for (g, ds) in groups.enumerated() where g >= offset {
            let t = steps - 1 - (g - offset)
            for m in matmuls where ds.contains(depth[m.index]) { result[m.index] = t }
        }
        return result
    }

    private static func f(_ x: Double) -> String { String(format: "%.2f", x) }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">",
                with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
