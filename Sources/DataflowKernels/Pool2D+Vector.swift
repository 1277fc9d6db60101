/// Max pooling with the channels of a pixel as vectors: the same comparisons as the
/// scalar loops (`v > best`, or v NaN over a non-NaN best; the first maximum in scan
/// order wins), so the results are bit for bit the scalar loops' results.
enum _PoolVectorKernels<V: _KernelVector> {
    typealias T = V.Scalar

    /// Channels c0..<c0+lanes of output pixel r: the window's maximum and its scan
    /// position (as a T, exact for any window); nil when the window holds no input pixel.
    @inline(__always)
    static func argmax(_ g: Pool2DGeometry, _ x: _UnsafeMatrix<T>, _ r: Int, _ c0: Int, _ lanes: Int) -> (best: V, at: V)? {
        var best = V(repeating: 0), at = V(repeating: 0), first = true, position = 0
        _PoolKernels<T>.window(g, r) { p in
            defer { position += 1 }
            guard p >= 0 else { return }
            let v = V.loadPrefix(x.at(p, c0), count: lanes)
            if first {
                best = v
                at = V(repeating: T(position))
                first = false
                return
            }
            let take = V.or(V.less(best, v), V.and(V.notEqual(v, v), V.equal(best, best)))
            best = best.replacing(with: v, where: take)
            at = at.replacing(with: V(repeating: T(position)), where: take)
        }
        return first ? nil : (best, at)
    }

    static func maxForward(_ g: Pool2DGeometry, _ x: _UnsafeMatrix<T>, _ y: _UnsafeMatrix<T>, _ rows: Range<Int>) {
        for r in rows {
            var c0 = 0
            while c0 < g.channels {
                let lanes = min(V.lanes, g.channels - c0)
                if let (best, _) = argmax(g, x, r, c0, lanes) { best.storePrefix(y.at(r, c0), count: lanes) }
                c0 += V.lanes
            }
        }
    }

    static func maxBackward(_ g: Pool2DGeometry, _ x: _UnsafeMatrix<T>, _ dy: _UnsafeMatrix<T>, _ dx: _UnsafeMatrix<T>,
                            _ images: Range<Int>) {
        let c = g.channels, hw = g.height * g.width, ohw = g.outputHeight * g.outputWidth
        for p in images.lowerBound * hw..<images.upperBound * hw { dx.at(p, 0).update(repeating: 0, count: c) }
        let zero = V(repeating: 0)
        for r in images.lowerBound * ohw..<images.upperBound * ohw {
            var c0 = 0
            while c0 < c {
                let lanes = min(V.lanes, c - c0)
                if let (_, at) = argmax(g, x, r, c0, lanes) {
                    let d = V.loadPrefix(dy.at(r, c0), count: lanes)
                    var position = 0
                    _PoolKernels<T>.window(g, r) { p in
                        defer { position += 1 }
                        guard p >= 0 else { return }
                        let mine = V.equal(at, V(repeating: T(position)))
                        let out = dx.at(p, c0)
                        (V.loadPrefix(out, count: lanes) + zero.replacing(with: d, where: mine)).storePrefix(out, count: lanes)
                    }
                }
                c0 += V.lanes
            }
        }
    }
}
