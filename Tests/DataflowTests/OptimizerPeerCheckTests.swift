import Foundation
import Testing
import Dataflow

// The Swift half of Benchmarks/peers/optim_check.py: with DATAFLOW_OPTIM_CHECK_DIR
// set, trains the tiny network (OptimizerTestSupport.swift) with every optimizer
// case in float64 and writes, per case, `<dir>/<case>.json`: the parameters after
// each step ({"name", "steps": [{"w1": [...], ...}, ...], "losses": [...]}). The
// script runs torch.optim from the same initial values and compares.

@Suite("OptimizerPeerCheck", .enabled(if: ProcessInfo.processInfo.environment["DATAFLOW_OPTIM_CHECK_DIR"] != nil,
                                      "set by Benchmarks/peers/optim_check.py"))
struct OptimizerPeerCheckTests {
    struct Trajectory: Encodable {
        var name: String
        var steps: [[String: [Double]]]
        var losses: [Double]
    }

    @Test("writes Dataflow's parameters after each optimizer step", arguments: OptimizerCase.all)
    func writeTrajectory(_ c: OptimizerCase) throws {
        let directory = URL(fileURLWithPath: try #require(ProcessInfo.processInfo.environment["DATAFLOW_OPTIM_CHECK_DIR"]))
        var trainer = try c.trainer()
        var trajectory = Trajectory(name: c.name, steps: [], losses: [])
        for k in 0..<OptimizerCase.steps {
            trajectory.losses.append(try trainer.run(k))
            var values: [String: [Double]] = [:]
            for p in trainer.net.parameters { values[try #require(p.name)] = try trainer.net.graph.value(of: p).asDoubles() }
            trajectory.steps.append(values)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(trajectory).write(to: directory.appendingPathComponent("\(c.name).json"), options: .atomic)
    }
}
