/// The main job: the seed experiment, then the speedup report.
enum MainJob {
    static func run() throws {
        try SeedCommand.run(Options([], spec: SeedCommand.spec))
        try SpeedupCommand.run(Options([], spec: SpeedupCommand.spec))
    }
}
