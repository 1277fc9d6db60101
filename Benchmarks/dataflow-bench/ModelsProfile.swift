import Dataflow
import DataflowScheduler
import Foundation

/// `dataflow-bench models --profile`: where one training step's time goes. The step is
/// traced on one worker (median task durations over `runs` traced steps, after warm-up)
/// and its tasks are grouped by name (the op, or the fused kernel), largest total first.
enum ModelsProfile {
    static func report(model: String, seed: UInt64, lr: Double, timing: Bool, runs: Int = 9, top: Int = 25) throws -> [String] {
        let program = try ModelsZoo.build(model: model, seed: seed, lr: lr, workers: 1, timing: timing)
        let shape: [Int]
        switch (model, timing) {
        case ("cnn", true): shape = [128, 28 * 28]
        case ("lstm", _):
            let s = ModelsInit.lstmSizes(timing: timing)
            shape = [timing ? s.batch : ModelsInit.batch, s.steps * s.features]
        default: shape = [ModelsInit.batch, 64]
        }
        let (x, y) = ModelsInit.synthetic(seed: seed, shape: shape)
        let keep: [Float]? = model == "dae" ? [Float](repeating: 1, count: shape[0] * shape[1]) : nil
        let feeds = try program.feeds(x, y, keep)
        let graph = try program.step.program(for: feeds).taskGraph
        for _ in 0..<5 { _ = try program.step(feeds) }
        var perRun: [[Double]] = []
        var stepTimes: [Double] = []
        for _ in 0..<runs {
            let recorder = TraceRecorder()
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try program.step.run(feeds, recorder: recorder)
            stepTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
            perRun.append(ScheduleSimulator.durations(from: recorder, for: graph))
        }
        var untraced: [Double] = []
        for _ in 0..<21 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try program.step(feeds)
            untraced.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
        }
        let plain = untraced.sorted()[untraced.count / 2]
        let durations = (0..<graph.count).map { t in perRun.map { $0[t] }.sorted()[runs / 2] }
        var groups: [String: (count: Int, seconds: Double)] = [:]
        var kinds: [String: (count: Int, seconds: Double)] = [:]
        for t in 0..<graph.count {
            let name = graph.name(of: TaskID(index: t))
            let key = nodeName(name)
            groups[key, default: (0, 0)].count += 1
            groups[key, default: (0, 0)].seconds += durations[t]
            let kind = String(name[..<(name.range(of: " #")?.lowerBound ?? name.endIndex)])
            kinds[kind, default: (0, 0)].count += 1
            kinds[kind, default: (0, 0)].seconds += durations[t]
        }
        let work = durations.reduce(0, +)
        let estimate = (0..<graph.count).reduce(0.0) { $0 + graph.cost(of: TaskID(index: $1)) }
        let step = stepTimes.sorted()[runs / 2]
        var lines = ["\(model)\(timing ? " (timing size)" : "") profile on \(cpuModelName()), 1 worker: step \(fmt(step * 1e3, 3)) ms "
                     + "(median of \(runs) traced steps; untraced \(fmt(plain * 1e3, 3)) ms), \(graph.count) tasks, work \(fmt(work * 1e3, 3)) ms, "
                     + "untraced remainder \(fmt((step - work) * 1e6, 1)) µs; the compiler's cost estimate \(fmt(estimate * 1e6, 1)) µs"]
        lines.append("  by kind:  ms  share  tasks  µs/task  kind")
        for (name, g) in kinds.sorted(by: { $0.value.seconds > $1.value.seconds }).prefix(top) {
            lines.append(String(format: "%14.3f  %4.1f%%  %5d  %7.2f  %@", g.seconds * 1e3, 100 * g.seconds / work, g.count,
                                g.seconds / Double(g.count) * 1e6, String(name.prefix(120))))
        }
        lines.append("  by node:  ms  share  tasks  µs/task  node")
        for (name, g) in groups.sorted(by: { $0.value.seconds > $1.value.seconds }).prefix(top) {
            lines.append(String(format: "%14.3f  %4.1f%%  %5d  %7.2f  %@", g.seconds * 1e3, 100 * g.seconds / work, g.count,
                                g.seconds / Double(g.count) * 1e6, String(name.prefix(120))))
        }
        return lines
    }

    /// A task's name up to its node number ("conv2d(3×3, …) #9" of "conv2d(3×3, …) #9 images 0..<16"):
    /// the tiles of one op are one group.
    static func nodeName(_ name: String) -> String {
        guard let hash = name.range(of: " #") else { return name }
        let rest = name[hash.upperBound...]
        let digits = rest.prefix { $0.isNumber }
        return String(name[..<hash.upperBound]) + digits
    }
}
