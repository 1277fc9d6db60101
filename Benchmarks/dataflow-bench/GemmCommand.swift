// Placeholder until the gemm subcommand lands; it refuses honestly.
enum GemmCommand: BenchCommand {
    static let summary = "(gemm: not implemented yet)"
    static let spec = OptionSpec([])
    static func run(_ options: Options) throws {
        throw CLIError("'gemm' is not implemented yet")
    }
}
