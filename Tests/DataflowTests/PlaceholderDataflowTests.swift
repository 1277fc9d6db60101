import Testing
@testable import Dataflow
@Test func DataflowModuleLinks() { #expect(Bool(true) == true) }
