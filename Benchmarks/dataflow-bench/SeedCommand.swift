// Placeholder until the seed subcommand lands; it refuses honestly.
enum SeedCommand: BenchCommand {
    static let summary = "(seed: not implemented yet)"
    static let spec = OptionSpec([])
    static func run(_ options: Options) throws {
        throw CLIError("'seed' is not implemented yet")
    }
}
