import Synchronization
import Testing
import DataflowScheduler

@Suite struct ExecutorTests {
    @Test(arguments: [1, 2, 3, 8])
    func randomDAGsRunEachTaskOnceAfterPredecessors(workers: Int) throws {
        let executor = Executor(workers: workers)
        for seed in 0..<40 {
            let n = 1 + Int(seed * 37 % 300)
            let log = RunLog(count: n)
            let graph = randomDAG(tasks: n, edgeProbability: 0.15, seed: UInt64(seed), log: log)
            try executor.run(graph)
            #expect(log.violations(graph) == [], "seed \(seed), workers \(workers)")
        }
    }
}
