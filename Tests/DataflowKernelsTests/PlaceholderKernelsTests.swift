import Testing
@testable import DataflowKernels
@Test func KernelsModuleLinks() { #expect(Bool(true) == true) }
