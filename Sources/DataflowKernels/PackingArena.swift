#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-thread packing buffers for GEMM, 64-byte aligned, grown on demand and then
/// reused: no allocation in steady state, and no sharing between threads (each
/// thread finds its own arena through a pthread key; the key's destructor frees it
/// when the thread exits).
final class _PackingArena {
    private var a: UnsafeMutableRawPointer?
    private var aBytes = 0
    private var b: UnsafeMutableRawPointer?
    private var bBytes = 0
    private var scratch: UnsafeMutableRawPointer?
    private var scratchBytes = 0

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { raw in
            #if canImport(Darwin)
            Unmanaged<_PackingArena>.fromOpaque(raw).release()
            #else
            if let raw { Unmanaged<_PackingArena>.fromOpaque(raw).release() }
            #endif
        }
        precondition(status == 0, "DataflowKernels: pthread_key_create failed (\(status))")
        return key
    }()

    /// The calling thread's arena.
    static func current() -> _PackingArena {
        if let raw = pthread_getspecific(key) {
            return Unmanaged<_PackingArena>.fromOpaque(raw).takeUnretainedValue()
        }
        let arena = _PackingArena()
        pthread_setspecific(key, Unmanaged.passRetained(arena).toOpaque())
        return arena
    }

    deinit {
        free(a)
        free(b)
        free(scratch)
    }

    /// Buffers of at least the given element counts (contents unspecified).
    func buffers<T>(_: T.Type, aCount: Int, bCount: Int, scratchCount: Int)
        -> (a: UnsafeMutablePointer<T>, b: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>) {
        let size = MemoryLayout<T>.stride
        Self.reserve(&a, &aBytes, aCount * size)
        Self.reserve(&b, &bBytes, bCount * size)
        Self.reserve(&scratch, &scratchBytes, scratchCount * size)
        return (a!.bindMemory(to: T.self, capacity: aCount), b!.bindMemory(to: T.self, capacity: bCount),
                scratch!.bindMemory(to: T.self, capacity: scratchCount))
    }

    private static func reserve(_ pointer: inout UnsafeMutableRawPointer?, _ capacity: inout Int, _ bytes: Int) {
        if pointer != nil && capacity >= bytes { return }
        free(pointer)
        let size = max(bytes, 4096)
        pointer = _allocateKernelMemory(bytes: size, what: "DataflowKernels packing buffer")
        capacity = size
    }
}
