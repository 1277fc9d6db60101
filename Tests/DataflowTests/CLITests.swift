import Foundation
import Testing

/// Every `dataflow-bench` subcommand runs to completion with small sizes, twice, in
/// its own process (a crash shows as a signal, a hang as the timeout). Full sizes run
/// repeatedly in `scripts/cli-soak.sh`.
@Suite("dataflow-bench runs to completion", .serialized)
struct CLITests {
    static let invocations: [[String]] = [
        ["--help"],
        ["seed", "--reps", "2", "--step-reps", "1", "--warmup", "0", "--batch", "8", "--sizes", "32,16,8", "--chain", "100"],
        ["speedup", "--threads", "1,2", "--batch", "8", "--sizes", "32,16,8", "--reps", "1", "--warmup", "0",
         "--sim-tiles", "4", "--simulate", "4"],
        ["gemm", "--shapes", "32x32x32,17x9x33:TN,40x8x16:NT", "--reps", "1", "--warmup", "0"],
        ["gemm", "--shapes", "33x17x9", "--threads", "1,2", "--reps", "1", "--warmup", "0", "--dtype", "double"],
        ["sched", "--size", "2000", "--reps", "1", "--baseline-size", "2000"],
        ["train", "--epochs", "2", "--samples", "256", "--batch", "32"],
        ["soak", "--steps", "20", "--warmup", "5", "--max-growth-mb", "64"],
        ["models", "--model", "logreg", "--epochs", "1", "--threads", "1,2"],
        ["smallstep", "--workers", "1,2", "--steps", "20", "--rounds", "1"],
    ]

    /// The `dataflow-bench` built beside this test binary.
    static func binary() -> URL? {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = here.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("dataflow-bench")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    /// Runs the binary; returns (exit status, terminated by a signal, output tail).
    static func run(_ arguments: [String], timeout: TimeInterval = 240) throws -> (Int32, Bool, String) {
        guard let url = binary() else { throw CLITestError("dataflow-bench not found beside \(CommandLine.arguments[0])") }
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let reader = Thread { _ = output.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return (-1, true, "timed out after \(timeout) s")
        }
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason == .uncaughtSignal, "")
    }

    @Test(arguments: invocations)
    func subcommandCompletesTwice(_ arguments: [String]) throws {
        for round in 1...2 {
            let (status, signalled, note) = try CLITests.run(arguments)
            let command = arguments.joined(separator: " ")
            #expect(!signalled && status == 0,
                    "dataflow-bench \(command) (round \(round)): status \(status)\(signalled ? " (signal)" : "") \(note)")
        }
    }

    @Test func badArgumentsExitWithAMessageNotACrash() throws {
        for arguments in [["no-such-command"], ["gemm", "--reps", "x"], ["sched", "--size", "-5"], ["train", "--epochs"]] {
            let (status, signalled, _) = try CLITests.run(arguments)
            #expect(!signalled && status != 0, "dataflow-bench \(arguments.joined(separator: " ")): status \(status)")
        }
    }
}

struct CLITestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
