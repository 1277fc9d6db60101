// Placeholder until the sched subcommand lands; it refuses honestly.
enum SchedCommand: BenchCommand {
    static let summary = "(sched: not implemented yet)"
    static let spec = OptionSpec([])
    static func run(_ options: Options) throws {
        throw CLIError("'sched' is not implemented yet")
    }
}
