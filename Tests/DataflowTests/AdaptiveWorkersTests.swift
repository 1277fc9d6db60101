import Foundation
import Testing
import Dataflow

/// `CompileOptions.minimumWorkPerWorker`: with the default worker count a small program
/// runs on fewer workers; an explicit count is honoured; the bits never change.
@Suite struct AdaptiveWorkersTests {
    static func program(side: Int, options: CompileOptions) throws -> (Program, [TensorValue]) {
        let g = Graph()
        let a = try g.placeholder("a", .float32, [side, side])
        let w = g.parameter("w", try TensorValue(shape: [side, side], floats: (0..<side * side).map { Float($0 % 7) / 7 - 0.5 }))
        let y = try tanh(a • w) • w
        let f = try compile(inputs: [a], outputs: [y], options: options)
        let feeds = ["a": try TensorValue(shape: [side, side], floats: (0..<side * side).map { Float($0 % 5) / 5 })]
        return (try f.program(for: feeds), try f(feeds))
    }

    @Test func smallProgramsRunOnFewerWorkersOnlyByDefault() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // A 4×4 step: a few tasks, microseconds of work.
        let (small, smallOut) = try Self.program(side: 4, options: CompileOptions())
        #expect(small.workers == 1, "a 4×4 program with the default options runs on \(small.workers) workers")
        let (explicit, explicitOut) = try Self.program(side: 4, options: CompileOptions(workers: 2))
        #expect(explicit.workers == 2)
        var all = CompileOptions()
        all.minimumWorkPerWorker = 0
        let (unadapted, unadaptedOut) = try Self.program(side: 4, options: all)
        #expect(unadapted.workers == cores)
        #expect(smallOut[0] == explicitOut[0] && smallOut[0] == unadaptedOut[0])
        // 384×384 products: ~100 MFLOP, milliseconds: every core.
        let (large, _) = try Self.program(side: 384, options: CompileOptions())
        #expect(large.workers == min(cores, CompileOptions.maximumWorkers))
    }

    @Test func invalidSettingThrows() throws {
        for bad in [-1e-6, .nan, .infinity] {
            var options = CompileOptions()
            options.minimumWorkPerWorker = bad
            #expect(throws: CompileError.self) { _ = try Self.program(side: 2, options: options) }
        }
    }
}
