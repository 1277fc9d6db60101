import Foundation

/// Geometry helpers of the interpreter's convolution and pooling loops (NHWC, HWIO).
extension Interpreter {
    func requireShape(_ shape: [Int], _ expected: [Int], _ what: String, _ name: String) throws {
        guard shape == expected else {
            throw RuntimeError(message: "\(name): \(what) should have shape \(Shape.describe(expected))", kind: .shapeMismatch(name))
        }
    }

    /// The concrete sizes of a convolution, with a visitor of its taps inside the input.
    struct ConvSizes {
        let n: Int, h: Int, w: Int, c: Int, kh: Int, kw: Int, o: Int, oh: Int, ow: Int
        let a: Conv2DAttributes

        /// Calls `body(n, oh, ow, kh, kw, ih, iw)` for every tap that reads an input pixel (not padding).
        func forEachTap(_ body: (Int, Int, Int, Int, Int, Int, Int) -> Void) {
            for n in 0..<n { for oh in 0..<oh { for ow in 0..<ow { for kh in 0..<kh { for kw in 0..<kw {
                let ih = oh * a.strideHeight - a.padTop + kh * a.dilationHeight
                let iw = ow * a.strideWidth - a.padLeft + kw * a.dilationWidth
                if ih >= 0 && ih < h && iw >= 0 && iw < w { body(n, oh, ow, kh, kw, ih, iw) }
            } } } } }
        }
    }

    func convGeometry(_ a: Conv2DAttributes, input: [Int], kernel: [Int], _ name: String) throws -> ConvSizes {
        guard input.count == 4, kernel.count == 4, kernel[0] == a.kernelHeight, kernel[1] == a.kernelWidth, kernel[2] == input[3] else {
            throw RuntimeError(message: "\(name): input \(Shape.describe(input)) and kernel \(Shape.describe(kernel)) do not fit (\(a))",
                               kind: .shapeMismatch(name))
        }
        let padded = (input[1] + a.padTop + a.padBottom, input[2] + a.padLeft + a.padRight)
        let extent = (a.dilationHeight * (a.kernelHeight - 1) + 1, a.dilationWidth * (a.kernelWidth - 1) + 1)
        guard extent.0 <= padded.0, extent.1 <= padded.1 else {
            throw RuntimeError(message: "\(name): the dilated kernel is larger than the padded input \(Shape.describe(input))",
                               kind: .shapeMismatch(name))
        }
        return ConvSizes(n: input[0], h: input[1], w: input[2], c: input[3], kh: kernel[0], kw: kernel[1], o: kernel[3],
                         oh: (padded.0 - extent.0) / a.strideHeight + 1, ow: (padded.1 - extent.1) / a.strideWidth + 1, a: a)
    }

    /// The concrete sizes of a pooling, with each window's input rows and columns (padding excluded).
    struct PoolSizes {
        let n: Int, h: Int, w: Int, c: Int, kh: Int, kw: Int, oh: Int, ow: Int
        let a: Pool2DAttributes
        func rows(_ oh: Int) -> Range<Int> {
            let start = oh * a.strideHeight - a.padTop
            return Swift.max(start, 0)..<Swift.min(start + kh, h)
        }
        func cols(_ ow: Int) -> Range<Int> {
            let start = ow * a.strideWidth - a.padLeft
            return Swift.max(start, 0)..<Swift.min(start + kw, w)
        }
    }

    func poolGeometry(_ a: Pool2DAttributes, input: [Int], _ name: String) throws -> PoolSizes {
        let padded = input.count == 4 ? (input[1] + a.padTop + a.padBottom, input[2] + a.padLeft + a.padRight) : (0, 0)
        guard input.count == 4, a.windowHeight <= padded.0, a.windowWidth <= padded.1 else {
            throw RuntimeError(message: "\(name): input \(Shape.describe(input)) does not fit the window (\(a))",
                               kind: .shapeMismatch(name))
        }
        return PoolSizes(n: input[0], h: input[1], w: input[2], c: input[3], kh: a.windowHeight, kw: a.windowWidth,
                         oh: (padded.0 - a.windowHeight) / a.strideHeight + 1, ow: (padded.1 - a.windowWidth) / a.strideWidth + 1, a: a)
    }

}
