import Foundation
import Testing
import DataflowScheduler

@Suite struct TraceRecorderTests {
    @Test(arguments: [1, 2])
    func chromeTraceParsesAndSummaryIsConsistent(workers: Int) throws {
        let executor = Executor(workers: workers)
        var g = TaskGraph()
        let a = g.addTask("load \"x\"", kind: 1) { spin(microseconds: 50) }
        let b = g.addTask("matmul", kind: 2) { spin(microseconds: 100) }
        let c = g.addTask("grad\n", kind: 2) { spin(microseconds: 100) }
        let d = g.addTask("sum", kind: 3) { spin(microseconds: 20) }
        g.addDependency(a, b); g.addDependency(a, c); g.addDependency(b, d); g.addDependency(c, d)
        let trace = TraceRecorder()
        try bounded { [g] in try executor.run(g, observer: trace) }
        try bounded { [g] in try executor.run(g, observer: trace) }
        #expect(trace.events.count == 8)
        #expect(trace.runCount == 2)
        #expect(trace.events.allSatisfy { $0.end >= $0.start && (0..<workers).contains($0.worker) })

        let json = trace.chromeTrace(for: g, kindNames: [2: "matmul"])
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let events = try #require(parsed?["traceEvents"] as? [[String: Any]])
        let complete = events.filter { $0["ph"] as? String == "X" }
        #expect(complete.count == 8)
        #expect(complete.contains { $0["name"] as? String == "load \"x\"" })
        #expect(complete.allSatisfy { $0["ts"] is Double && $0["dur"] is Double && $0["tid"] is Int })
        #expect(complete.contains { ($0["args"] as? [String: Any])?["kindName"] as? String == "matmul" })

        let s = trace.summary(for: g)
        #expect(s.work >= s.span && s.span > 0)
        #expect(s.makespan >= s.span)
        #expect(abs(s.parallelism - s.work / s.span) < 1e-9)
        #expect(s.span >= 170e-6)   // a → b → d at least

        trace.reset()
        #expect(trace.events.isEmpty && trace.runCount == 0)
    }

    @Test func simulatorUsesMeasuredDurations() throws {
        var g = TaskGraph()
        for i in 0..<4 { g.addTask("t\(i)", cost: 1) { spin(microseconds: 30) } }
        let trace = TraceRecorder()
        try bounded { [g] in try Executor(workers: 1).run(g, observer: trace) }
        let d = ScheduleSimulator.durations(from: trace, for: g)
        #expect(d.allSatisfy { $0 >= 30e-6 && $0 < 1 })
        let untraced = ScheduleSimulator.durations(from: TraceRecorder(), for: g)
        #expect(untraced == [1, 1, 1, 1])
    }
}
