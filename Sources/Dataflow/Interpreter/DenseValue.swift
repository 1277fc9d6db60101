/// The interpreter's working value: a concrete shape and row-major elements in
/// `Double` (int32 labels are stored exactly). Plain arrays, no kernels.
struct DenseValue {
    var shape: [Int]
    var data: [Double]

    init(shape: [Int], data: [Double]) {
        precondition(shape.reduce(1, *) == data.count, "DenseValue: \(data.count) elements for shape \(shape)")
        self.shape = shape
        self.data = data
    }

    init(shape: [Int], repeating value: Double) {
        self.init(shape: shape, data: [Double](repeating: value, count: shape.reduce(1, *)))
    }

    var count: Int { data.count }

    /// Row-major strides of `shape`.
    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// The numpy broadcast of two concrete shapes, or `nil` if incompatible.
    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let x = i < a.count ? a[a.count - 1 - i] : 1
            let y = i < b.count ? b[b.count - 1 - i] : 1
            guard x == y || x == 1 || y == 1 else { return nil }
            out[rank - 1 - i] = x == 1 ? y : x
        }
        return out
    }

    /// For each element of `outer` (row-major), the index of the element of a tensor
    /// of shape `inner` that broadcasts to it (numpy rules; `inner` must broadcast
    /// to `outer`).
    static func broadcastMap(from inner: [Int], to outer: [Int]) -> [Int] {
        let rank = outer.count
        let pad = rank - inner.count
        precondition(pad >= 0, "broadcastMap: rank \(inner.count) does not broadcast to \(rank)")
        let innerStrides = strides(inner)
        var steps = [Int](repeating: 0, count: rank)
        for i in 0..<inner.count where inner[i] != 1 { steps[pad + i] = innerStrides[i] }
        let n = outer.reduce(1, *)
        var map = [Int](repeating: 0, count: n)
        var index = [Int](repeating: 0, count: rank)
        var offset = 0
        for flat in 0..<n {
            map[flat] = offset
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                offset += steps[axis]
                if index[axis] < outer[axis] { break }
                offset -= steps[axis] * index[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return map
    }

    /// For each element of a tensor of `shape`, the index of its element in the
    /// reduction over `axes` (removed).
    static func reductionMap(_ shape: [Int], axes: [Int]) -> (outShape: [Int], map: [Int]) {
        let drop = Set(axes)
        let outShape = shape.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
        // Keep-dims view of the output broadcast back to `shape`.
        let kept = shape.enumerated().map { drop.contains($0.offset) ? 1 : $0.element }
        return (outShape, broadcastMap(from: kept, to: shape))
    }
}
