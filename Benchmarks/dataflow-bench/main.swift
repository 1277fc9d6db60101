// dataflow-bench: the command-line face of Dataflow.
//
//   dataflow-bench                 seed experiment + speedup report (the main job)
//   dataflow-bench seed|speedup|gemm|sched [options]   (each takes --help)
import Foundation

let commands: [String: BenchCommand.Type] = [
    "gemm": GemmCommand.self,
    "sched": SchedCommand.self,
    "seed": SeedCommand.self,
    "speedup": SpeedupCommand.self,
    "train": TrainCommand.self,
    "soak": SoakCommand.self,
    "models": ModelsCommand.self,
    "smallstep": SmallStepCommand.self,
]

func usage() -> String {
    """
    usage: dataflow-bench [seed|speedup|gemm|sched] [options]

    With no subcommand, runs `seed` and then `speedup` on the seed network.
    subcommands:
      seed      joint vs separate gradients: build time, node counts, step times
      speedup   parallel step time for a list of thread counts, simulated cores
      gemm      matmul GFLOP/s against the machine's measured FMA peak
      sched     scheduler overhead per task against a DispatchGroup baseline
      train     train a small MLP on synthetic data (loss falls, accuracy rises)
      soak      many training steps; resident memory must stay flat
      models    logreg, MLP, CNN, DAE, LSTM on the 8×8 digits, as the PyTorch/JAX peers
      smallstep a small training-step-shaped task graph re-run back to back: step time, CPU, context switches
    Run `dataflow-bench <subcommand> --help` for its options.
    """
}

var arguments = Array(CommandLine.arguments.dropFirst())
do {
    if arguments.isEmpty {
        try MainJob.run()
    } else if arguments[0] == "--help" || arguments[0] == "-h" || arguments[0] == "help" {
        print(usage())
    } else if let command = commands[arguments[0]] {
        let options = try Options(Array(arguments.dropFirst()), spec: command.spec)
        if options.flag("help") {
            print(command.spec.help(command: arguments[0], summary: command.summary))
        } else {
            try command.run(options)
        }
    } else {
        throw CLIError("unknown subcommand '\(arguments[0])'\n\n\(usage())")
    }
} catch let error as CLIError {
    FileHandle.standardError.write(Data("dataflow-bench: \(error.message)\n".utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("dataflow-bench: \(error)\n".utf8))
    exit(1)
}
