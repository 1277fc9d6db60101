import Foundation
import Testing
@testable import Dataflow

/// Interoperability with the `safetensors` Python package and PyTorch, driven by
/// `Benchmarks/peers/safetensors_check.py`, which writes files into
/// `DATAFLOW_SAFETENSORS_DIR`, runs this suite, then checks the files it writes.
/// Skipped when the variable is not set.
///
/// Read here: `py_values.safetensors` (the `InteropTensors` set, metadata
/// `{"format": "pt"}`), `py_linear.safetensors` (a `torch.nn.Linear(4, 3)` state
/// dict, weight and bias set by the shared formula), and `py_<dtype>.safetensors`
/// for dtypes this library refuses. Written here: `swift_values.safetensors`,
/// `swift_echo.safetensors` (the Python file decoded and re-encoded) and
/// `swift_linear.safetensors` (a graph's parameters).
@Suite("CheckpointInterop", .enabled(if: ProcessInfo.processInfo.environment["DATAFLOW_SAFETENSORS_DIR"] != nil,
                                      "set DATAFLOW_SAFETENSORS_DIR (Benchmarks/peers/safetensors_check.py does)"))
struct CheckpointInteropTests {
    var directory: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["DATAFLOW_SAFETENSORS_DIR"] ?? "/nonexistent")
    }

    @Test("a file written by Python decodes to the shared values, bitwise; re-encoded, it is written back")
    func readPythonValues() throws {
        let (tensors, metadata) = try SafeTensors.load(from: directory.appendingPathComponent("py_values.safetensors"))
        let expected = try InteropTensors.all()
        #expect(Set(tensors.keys) == Set(expected.keys))
        for (name, value) in expected {
            #expect(tensors[name].map { checkpointBitwiseEqual($0, value) } == true,
                    "\(name): \(String(describing: tensors[name])) vs \(value)")
        }
        #expect(metadata == ["format": "pt"])
        try SafeTensors.save(tensors, to: directory.appendingPathComponent("swift_echo.safetensors"), metadata: metadata)
    }

    @Test("writes the shared values for Python to check")
    func writeSwiftValues() throws {
        try SafeTensors.save(InteropTensors.all(), to: directory.appendingPathComponent("swift_values.safetensors"),
                             metadata: ["format": "pt"])
    }

    @Test("a torch.nn.Linear state dict loads into graph parameters; the graph's parameters save for torch")
    func linearStateDict() throws {
        let g = Graph()
        let weight = g.parameter("weight", try TensorValue(shape: [3, 4], floats: Array(repeating: 0, count: 12)))
        let bias = g.parameter("bias", try TensorValue(shape: [3], floats: [0, 0, 0]))
        try g.loadParameters(from: directory.appendingPathComponent("py_linear.safetensors"))
        let w = try g.value(of: weight).floats ?? []
        let b = try g.value(of: bias).floats ?? []
        #expect(w == (0..<12).map { Float(InteropTensors.floatElement($0, 21)) })
        #expect(b == (0..<3).map { Float(InteropTensors.floatElement($0, 22)) })
        // Back to Python with new values: weight salt 31, bias salt 32.
        try g.setValue(TensorValue(shape: [3, 4], floats: (0..<12).map { Float(InteropTensors.floatElement($0, 31)) }), of: weight)
        try g.setValue(TensorValue(shape: [3], floats: (0..<3).map { Float(InteropTensors.floatElement($0, 32)) }), of: bias)
        try g.saveParameters(to: directory.appendingPathComponent("swift_linear.safetensors"), metadata: ["format": "pt"])
    }

    @Test("Python files with F16, BF16 and I64 tensors are refused, naming the tensor and the dtype",
          arguments: [("F16", "half"), ("BF16", "brain"), ("I64", "long")])
    func refusedDTypes(code: String, tensor: String) throws {
        let url = directory.appendingPathComponent("py_\(code).safetensors")
        #expect(throws: CheckpointError.unsupportedDType(tensor: tensor, dtype: code)) { try SafeTensors.load(from: url) }
    }
}
