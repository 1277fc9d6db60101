import Testing
@testable import DataflowScheduler
@Test func SchedulerModuleLinks() { #expect(Bool(true) == true) }
