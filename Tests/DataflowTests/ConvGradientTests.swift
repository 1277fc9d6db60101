import Testing
@testable import Dataflow

/// Convolution and pooling: gradients against central finite differences in
/// Double (the reference interpreter), including the backward ops themselves
/// (gradients of gradients), and the shape errors.
@Suite("Convolution and pooling gradients")
struct ConvGradientTests {
    static func attributes(_ kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int, Int, Int) = (0, 0, 0, 0),
                           dilation: (Int, Int) = (1, 1)) -> Conv2DAttributes {
        Conv2DAttributes(kernel: kernel, stride: stride, padding: padding, dilation: dilation)
    }

    static let cases: [OpCase] = [
        OpCase("conv2d same stride 1, C 1 → O 3") { b in
            try conv2d(b.input("x", [2, 5, 5, 1]), b.input("k", [3, 3, 1, 3]), padding: .same)
        },
        OpCase("conv2d valid stride 2, C 3 → O 1") { b in
            try conv2d(b.input("x", [2, 6, 7, 3]), b.input("k", [3, 3, 3, 1]), stride: (2, 2), padding: .valid)
        },
        OpCase("conv2d same stride 2, C 3 → O 3") { b in
            try conv2d(b.input("x", [1, 6, 5, 3]), b.input("k", [3, 2, 3, 3]), stride: (2, 2), padding: .same)
        },
        OpCase("conv2d explicit asymmetric padding, stride (2, 1)") { b in
            try conv2d(b.input("x", [2, 5, 4, 3]), b.input("k", [2, 3, 3, 3]), stride: (2, 1),
                       padding: .explicit(top: 1, bottom: 0, left: 2, right: 1))
        },
        OpCase("conv2d dilation 2, same, C 3 → O 3") { b in
            try conv2d(b.input("x", [1, 7, 6, 3]), b.input("k", [3, 3, 3, 3]), padding: .same, dilation: (2, 2))
        },
        OpCase("conv2d dilation 2 valid, C 1 → O 1") { b in
            try conv2d(b.input("x", [2, 7, 7, 1]), b.input("k", [2, 3, 1, 1]), dilation: (2, 1))
        },
        // The backward ops, so that gradients of gradients are right.
        OpCase("conv2dBackwardInput") { b in
            let like = b.input("like", [2, 5, 6, 3], differentiate: false)
            return try b.input("dy", [2, 3, 3, 2]).applying(.conv2dBackwardInput(attributes((3, 3), stride: (2, 2), padding: (1, 1, 1, 0))),
                                                            [b.input("k", [3, 3, 3, 2]), like])
        },
        OpCase("conv2dBackwardKernel") { b in
            try b.input("x", [2, 5, 6, 3]).applying(.conv2dBackwardKernel(attributes((3, 3), stride: (2, 2), padding: (1, 1, 1, 0))),
                                                    [b.input("dy", [2, 3, 3, 2])])
        },
        OpCase("maxPool2d 2×2") { b in try maxPool2d(b.input("x", [2, 4, 6, 3]), window: (2, 2)) },
        OpCase("maxPool2d 3×3 stride 2 same") { b in try maxPool2d(b.input("x", [2, 5, 5, 2]), window: (3, 3), stride: (2, 2),
                                                                   padding: .same) },
        OpCase("avgPool2d 2×2") { b in try avgPool2d(b.input("x", [2, 4, 6, 3]), window: (2, 2)) },
        OpCase("avgPool2d 3×2 stride 1 explicit padding") { b in
            try avgPool2d(b.input("x", [1, 5, 4, 2]), window: (3, 2), stride: (1, 1), padding: .explicit(top: 1, bottom: 2, left: 1,
                                                                                                         right: 0))
        },
        OpCase("avgPool2d same, excluding padding") { b in
            try avgPool2d(b.input("x", [2, 5, 5, 2]), window: (2, 2), padding: .same, countIncludesPadding: false)
        },
        OpCase("avgPool2dGrad") { b in
            let like = b.input("like", [2, 5, 5, 2], differentiate: false)
            let a = Pool2DAttributes(window: (2, 2), stride: (2, 2), padding: (0, 1, 0, 1), countIncludesPadding: false)
            return try b.input("dy", [2, 3, 3, 2]).applying(.avgPool2dGrad(a), [like])
        },
        OpCase("conv → bias → relu → maxPool → reshape") { b in
            let y = try relu(conv2d(b.input("x", [2, 6, 6, 2]), b.input("k", [3, 3, 2, 3]), padding: .same) + b.input("bias", [3]))
            return try reshape(maxPool2d(y, window: (2, 2)), [2, 27])
        },
    ]

    @Test(arguments: cases)
    func gradientMatchesFiniteDifferences(_ op: OpCase) throws {
        var builder = OpCase.Builder()
        let out = try op.build(&builder)
        let result = try gradientCheck(of: out, wrt: builder.wrt, feeds: builder.feeds)
        #expect(result.passed, "\(op): \(result)")
        #expect(result.checkedElements > 0)
    }

    /// Second order through a convolution: d/dx of ‖∂L/∂k‖² checked numerically.
    @Test func gradientOfGradientThroughConv() throws {
        var b = OpCase.Builder()
        let x = b.input("x", [2, 5, 5, 2])
        let k = b.input("k", [3, 3, 2, 2])
        let loss = try sum(square(conv2d(x, k, stride: (2, 2), padding: .same)))
        let dk = try grad(of: loss, wrt: k)
        let result = try gradientCheck(of: try sum(square(dk)), wrt: [x, k], feeds: b.feeds)
        #expect(result.passed, "\(result)")
    }

    @Test func maxPoolGradientTwiceThrows() throws {
        var b = OpCase.Builder()
        let x = b.input("x", [1, 4, 4, 1])
        let dx = try grad(of: sum(square(maxPool2d(x, window: (2, 2)))), wrt: x)
        #expect(throws: GraphError.self) { try grad(of: sum(dx), wrt: x) }
    }

    @Test func shapesAndBadArguments() throws {
        let g = Graph()
        let x = try g.placeholder("x", .float32, [nil, 28, 28, 1])
        let k = try g.placeholder("k", .float32, [5, 5, 1, 8])
        #expect(try conv2d(x, k, padding: .same).shape == [nil, 28, 28, 8])
        #expect(try conv2d(x, k).shape == [nil, 24, 24, 8])
        #expect(try conv2d(x, k, stride: (2, 2), padding: .same).shape == [nil, 14, 14, 8])
        #expect(try maxPool2d(conv2d(x, k, padding: .same), window: (2, 2)).shape == [nil, 14, 14, 8])
        func kind(_ body: () throws -> Tensor) -> GraphError.Kind? {
            do { _ = try body(); return nil } catch let error as GraphError { return error.kind } catch { return nil }
        }
        let wrongChannels = try g.placeholder("k3", .float32, [3, 3, 3, 8])
        #expect(kind { try conv2d(x, wrongChannels) } == .shapeMismatch)
        let flat = try g.placeholder("flat", .float32, [nil, 784])
        #expect(kind { try conv2d(flat, k) } == .shapeMismatch)
        #expect(kind { try conv2d(x, k, stride: (0, 1)) } == .invalidArgument)
        #expect(kind { try conv2d(x, k, dilation: (1, 0)) } == .invalidArgument)
        #expect(kind { try conv2d(x, k, padding: .explicit(top: -1, bottom: 0, left: 0, right: 0)) } == .invalidArgument)
        let big = try g.placeholder("big", .float32, [30, 30, 1, 1])
        #expect(kind { try conv2d(x, big) } == .shapeMismatch)
        #expect(kind { try maxPool2d(x, window: (0, 2)) } == .invalidArgument)
        #expect(kind { try maxPool2d(x, window: (2, 2), padding: .explicit(top: 2, bottom: 0, left: 0, right: 0)) } == .invalidArgument)
        #expect(kind { try avgPool2d(flat, window: (2, 2)) } == .shapeMismatch)
        let double = try g.placeholder("kd", .float64, [5, 5, 1, 8])
        #expect(kind { try conv2d(x, double) } == .dtypeMismatch)
        do {
            _ = try conv2d(x, wrongChannels)
        } catch let error as GraphError {
            #expect(error.message.contains("x") && error.message.contains("k3"), "\(error)")
        }
    }
}
