// Placeholder until the speedup subcommand lands; it refuses honestly.
enum SpeedupCommand: BenchCommand {
    static let summary = "(speedup: not implemented yet)"
    static let spec = OptionSpec([])
    static func run(_ options: Options) throws {
        throw CLIError("'speedup' is not implemented yet")
    }
}
