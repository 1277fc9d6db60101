import Testing
import DataflowKernels

/// The naive twin: walk the shape's multi-indices in row-major order.
func naiveStridedCopy<T>(_ src: [T], _ sl: StridedLayout, _ dst: inout [T], _ dl: StridedLayout) {
    let count = sl.shape.reduce(1, *)
    for linear in 0..<count {
        var rest = linear, s = sl.offset, d = dl.offset
        for a in sl.shape.indices.reversed() {
            let i = rest % sl.shape[a]; rest /= sl.shape[a]
            s += i * sl.strides[a]; d += i * dl.strides[a]
        }
        dst[d] = src[s]
    }
}

@Suite struct StridedCopyTests {
    static let shapes: [[Int]] = [[1], [15], [16, 17], [2, 3, 5], [3, 1, 4, 2], [2, 2, 3, 1, 5], [2, 3, 1, 2, 3, 4]]

    @Test(arguments: shapes)
    func permutationsAndSlicesMatchTwin(shape: [Int]) throws {
        try check(Float.self, shape)
        try check(Double.self, shape)
        try check(Int32.self, shape)
    }

    func check<T: TensorElement>(_: T.Type, _ shape: [Int]) throws {
        let dense = StridedLayout.dense(shape, offset: 2)
        let n = dense.count
        let values = (0..<n + 2).map { i -> T in
            if T.self == Int32.self { return Int32(i) as! T }
            if T.self == Float.self { return Float(i) * 0.5 as! T }
            return Double(i) * 0.25 as! T
        }
        let src = TensorBuffer(values)
        // Every rotation and the reversal of the axes (a transpose into a dense output).
        var perms: [[Int]] = (0..<shape.count).map { r in (0..<shape.count).map { ($0 + r) % shape.count } }
        perms.append(Array((0..<shape.count).reversed()))
        for perm in perms {
            let view = try dense.permuted(perm)
            let out = StridedLayout.dense(view.shape, offset: 1)
            let dst = TensorBuffer<T>(count: n + 1)
            try StridedCopy.copy(from: src, view, into: dst, out)
            var want = [T](repeating: T.zeroElement, count: n + 1)
            naiveStridedCopy(values, view, &want, out)
            #expect(dst.toArray() == want, "\(T.self) \(shape) perm \(perm)")
            // And back: scatter the dense copy into the permuted view of a fresh buffer.
            let back = TensorBuffer<T>(count: n + 2)
            try StridedCopy.copy(from: dst, out, into: back, view)
            #expect(Array(back.toArray()[2...]) == Array(values[2...]), "\(T.self) \(shape) perm \(perm) round trip")
        }
        // A slice of the last axis with a negative stride (reversed), into a strided destination.
        let last = shape.count - 1
        if shape[last] > 1 {
            var sliced = try dense.sliced(axis: last, 1..<shape[last])
            sliced.offset += (sliced.shape[last] - 1) * sliced.strides[last]
            sliced.strides[last] = -sliced.strides[last]
            let outShape = sliced.shape
            var outStrides = StridedLayout.dense(outShape).strides.map { $0 * 2 }
            outStrides[last] = 2
            let out = StridedLayout(shape: outShape, strides: outStrides, offset: 0)
            let dst = TensorBuffer<T>(count: 2 * n + 2)
            try StridedCopy.copy(from: src, sliced, into: dst, out)
            var want = [T](repeating: T.zeroElement, count: 2 * n + 2)
            naiveStridedCopy(values, sliced, &want, out)
            #expect(dst.toArray() == want, "\(T.self) \(shape) reversed slice")
        }
    }

    @Test func concatAndStack() throws {
        let a = TensorBuffer<Float>([1, 2, 3, 4, 5, 6]), b = TensorBuffer<Float>([7, 8, 9, 10])
        let out = TensorBuffer<Float>(count: 10)
        let o = StridedLayout.dense([2, 5])
        try StridedCopy.copy(from: a, .dense([2, 3]), into: out, o.sliced(axis: 1, 0..<3))
        try StridedCopy.copy(from: b, .dense([2, 2]), into: out, o.sliced(axis: 1, 3..<5))
        #expect(out.toArray() == [1, 2, 3, 7, 8, 4, 5, 6, 9, 10])
        // Stack two [2] vectors along a new last axis: [2, 2].
        let s = TensorBuffer<Float>(count: 4)
        let sl = StridedLayout.dense([2, 2])
        try StridedCopy.copy(from: a, .dense([2]), into: s, StridedLayout(shape: [2], strides: [2], offset: 0))
        try StridedCopy.copy(from: b, .dense([2]), into: s, StridedLayout(shape: [2], strides: [sl.strides[0]], offset: 1))
        #expect(s.toArray() == [1, 7, 2, 8])
    }

    @Test func errors() {
        let b = TensorBuffer<Float>(count: 6)
        let c = TensorBuffer<Float>(count: 6)
        #expect { try StridedCopy.copy(from: b, .dense([1, 1, 1, 1, 1, 1, 6]), into: c, .dense([1, 1, 1, 1, 1, 1, 6])) } throws: { e in
            (e as? KernelError)?.message.contains("rank 7") == true
        }
        #expect { try StridedCopy.copy(from: b, .dense([7]), into: c, .dense([7])) } throws: { e in
            (e as? KernelError)?.message.contains("source addresses elements 0...6 outside its buffer of 6") == true
        }
        #expect { try StridedCopy.copy(from: b, .dense([2, 3]), into: c, .dense([3, 2])) } throws: { e in
            (e as? KernelError)?.message.contains("source has shape [2, 3], destination [3, 2]") == true
        }
        #expect { try StridedCopy.copy(from: b, .dense([3]), into: c, StridedLayout(shape: [3], strides: [0])) } throws: { e in
            (e as? KernelError)?.message.contains("stride-0") == true
        }
        #expect { try StridedCopy.copy(from: b, .dense([4]), into: b, .dense([4], offset: 2)) } throws: { e in
            (e as? KernelError)?.message.contains("overlap") == true
        }
        #expect(throws: KernelError.self) { try StridedLayout.dense([2, 3]).permuted([0, 0]) }
    }
}
