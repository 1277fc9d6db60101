// Software prefetch. Swift's standard library has no prefetch function, but a
// function declared with an LLVM intrinsic's name is lowered to that intrinsic:
// `llvm.prefetch` becomes `prefetcht0` / `prefetchw` on x86-64 (and the matching
// hint elsewhere; a no-op where the target has none). The arguments must be
// constants for LLVM, which `@inline(__always)` wrappers with literal values give.
//
// Sanitizer builds (scripts/sanitize.sh) define DATAFLOW_NO_PREFETCH and get
// no-op hints instead: under -sanitize=thread the compiler emits the call to the
// intrinsic as an `invoke` (with an unwind edge), which LLVM's verifier rejects
// ("Cannot invoke an intrinsic other than donothing, patchpoint, statepoint,
// coro_resume, coro_destroy or clang.arc.attachedcall"; "Broken module found").
// A prefetch is only a hint, so leaving it out changes no result.

#if DATAFLOW_NO_PREFETCH
@inline(__always)
private func _llvmPrefetch(_ address: UnsafeRawPointer, _ write: Int32, _ locality: Int32, _ cacheType: Int32) {}
#else
@_silgen_name("llvm.prefetch.p0")
private func _llvmPrefetch(_ address: UnsafeRawPointer, _ write: Int32, _ locality: Int32, _ cacheType: Int32)
#endif

/// Hints that the cache line holding `address` will be read soon (into L1).
@inline(__always)
func _prefetchRead(_ address: UnsafeRawPointer) {
    _llvmPrefetch(address, 0, 3, 1)
}

/// Hints that the cache line holding `address` will be written soon (`prefetchw`).
@inline(__always)
func _prefetchWrite(_ address: UnsafeRawPointer) {
    _llvmPrefetch(address, 1, 3, 1)
}

/// Hints that the cache line holding `address` will be read, but not soon: into
/// L2 and the last-level cache, not L1 (`prefetcht1`).
@inline(__always)
func _prefetchL2(_ address: UnsafeRawPointer) {
    _llvmPrefetch(address, 0, 2, 1)
}

/// A strided block of memory (rows of `rowBytes`, `rowStride` bytes apart) that a
/// loop prefetches a few cache lines at a time while it computes something else,
/// so that a later pass over the block finds it in cache: `GEMM`'s next B block is
/// fetched from memory while the micro-kernels work on the current one.
struct _PrefetchStream {
    /// Start of the current row, the next line to prefetch and the current row's last line (addresses).
    private var rowStart = 0, cursor = 0, lastLine = 0
    private var rowsLeft = 0
    private var rowStride = 0, rowBytes = 0

    /// An empty stream (nothing to prefetch).
    init() {}

    init(base: UnsafeRawPointer, rows: Int, rowBytes: Int, rowStride: Int) {
        guard rows > 0 && rowBytes > 0 else { return }
        rowsLeft = rows
        self.rowStride = rowStride
        self.rowBytes = rowBytes
        startRow(Int(bitPattern: base))
    }

    @inline(__always)
    private mutating func startRow(_ start: Int) {
        rowStart = start
        cursor = start & ~63
        lastLine = (start + rowBytes - 1) & ~63
    }

    /// Prefetches the next `lines` cache lines of the block, if any are left.
    @inline(__always)
    mutating func advance(lines: Int) {
        var left = lines
        while left > 0 && rowsLeft > 0 {
            _prefetchL2(UnsafeRawPointer(bitPattern: cursor)!)
            left -= 1
            if cursor == lastLine {
                rowsLeft -= 1
                startRow(rowStart + rowStride)
            } else {
                cursor += 64
            }
        }
    }
}
