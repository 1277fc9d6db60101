import Dataflow

/// The CNN of INIT.md §6 needs 2-D convolution and max-pooling ops in the graph; they
/// are not in the graph API yet, so the CNN is left out (`available` is false).
enum ConvolutionSupport {
    static let available = false

    static func cnnLogits(x: Tensor, side: Int, params: [Tensor]) throws -> Tensor {
        throw CLIError("cnn: the graph has no conv2d / maxPool2d ops yet")
    }
}
