import Foundation

/// Reading and writing tensors in the safetensors format (Hugging Face), the
/// checkpoint format PyTorch, JAX and the `safetensors` Python package share.
///
/// A file is an 8-byte little-endian header length `N`, `N` bytes of JSON
/// describing each tensor (`dtype`, `shape`, `data_offsets` into the data
/// section, plus an optional `__metadata__` map of strings), then the raw
/// little-endian, row-major data. This namespace supports the dtypes `F32`,
/// `F64` and `I32` (`DType.float32`, `.float64`, `.int32`); any other dtype in a
/// file is refused with an error naming the tensor.
///
/// ```swift
/// let w = try TensorValue(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
/// let bytes = try SafeTensors.encode(["w": w], metadata: ["format": "pt"])
/// let (tensors, metadata) = try SafeTensors.decode(bytes)
/// tensors["w"] == w        // true
/// metadata["format"]       // "pt"
/// ```
///
/// Specification: https://github.com/huggingface/safetensors (README, "Format"),
/// reference implementation `safetensors/src/tensor.rs`.
public enum SafeTensors {
    /// The largest header this reader accepts, in bytes (the reference's limit).
    public static let maximumHeaderSize = 100_000_000

    /// Encodes tensors and string metadata as a safetensors file, deterministically.
    ///
    /// The layout is the reference implementation's, so the bytes equal those of
    /// Python's `safetensors.torch.save(…)` for the same tensors: tensors sorted
    /// by element size, largest first (F64, then F32, then I32; every tensor then
    /// starts at a multiple of its element size), ties by name in UTF-8 byte order,
    /// and packed in that order; compact JSON with `__metadata__` first (keys in
    /// UTF-8 byte order; omitted when `metadata` is empty); the header padded with
    /// spaces to a multiple of 8 bytes.
    ///
    /// ```swift
    /// let b = try TensorValue(shape: [3], doubles: [0.5, 1, 2])
    /// let data = try SafeTensors.encode(["b": b])
    /// ```
    ///
    /// - Parameters:
    ///   - tensors: the tensors by name. Any name but `__metadata__`.
    ///   - metadata: free-form string pairs stored in `__metadata__`.
    /// - Returns: the complete file contents.
    /// - Throws: `CheckpointError.reservedName` if a tensor is named `__metadata__`.
    /// - Complexity: O(total bytes + n log n) for n tensors.
    public static func encode(_ tensors: [String: TensorValue], metadata: [String: String] = [:]) throws -> Data {
        if tensors[SafeTensorsHeader.metadataKey] != nil {
            throw CheckpointError.reservedName(SafeTensorsHeader.metadataKey)
        }
        let ordered = tensors.sorted { a, b in
            if a.value.dtype.byteSize != b.value.dtype.byteSize { return a.value.dtype.byteSize > b.value.dtype.byteSize }
            if a.value.dtype != b.value.dtype { return dtypeRank(a.value.dtype) > dtypeRank(b.value.dtype) }
            return a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
        }
        var entries: [SafeTensorsHeader.Entry] = []
        var offset = 0
        for (name, value) in ordered {
            let n = value.count * value.dtype.byteSize
            entries.append(.init(name: name, dtype: code(of: value.dtype), shape: value.shape, begin: offset, end: offset + n))
            offset += n
        }
        var header = SafeTensorsHeader(entries: entries, metadata: metadata, hasMetadata: !metadata.isEmpty).json()
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var data = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        for (_, value) in ordered {
            switch value.storage {
            case .float32(let b): appendLittleEndian(b.toArray().map(\.bitPattern), to: &data)
            case .float64(let b): appendLittleEndian(b.toArray().map(\.bitPattern), to: &data)
            case .int32(let b): appendLittleEndian(b.toArray(), to: &data)
            }
        }
        return data
    }

    /// Decodes a safetensors file, checking everything before trusting anything.
    ///
    /// Checks, in order: the header length against the file size and
    /// `maximumHeaderSize`; the header is UTF-8 JSON of the safetensors shape
    /// (no duplicate names or fields); each tensor's dtype is F32, F64 or I32,
    /// its size does not overflow, its `data_offsets` lie in the data section and
    /// span exactly its element count times the element size; no two tensors
    /// overlap and together they cover the data section exactly.
    ///
    /// ```swift
    /// let (tensors, metadata) = try SafeTensors.decode(Data(contentsOf: url))
    /// ```
    ///
    /// - Parameter data: the complete file contents.
    /// - Returns: the tensors by name (each in its own new buffer) and the
    ///   `__metadata__` map (empty if absent).
    /// - Throws: `CheckpointError` naming the tensor, or the header byte offset, and
    ///   the expected and actual values. Never traps, whatever the bytes.
    /// - Complexity: O(file size + n log n) for n tensors.
    public static func decode(_ data: Data) throws -> (tensors: [String: TensorValue], metadata: [String: String]) {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            try decode(raw)
        }
    }

    static func decode(_ raw: UnsafeRawBufferPointer) throws -> (tensors: [String: TensorValue], metadata: [String: String]) {
        guard raw.count >= 8 else { throw CheckpointError.truncatedFile(size: raw.count) }
        var declared: UInt64 = 0
        for i in (0..<8).reversed() { declared = declared << 8 | UInt64(raw[i]) }
        guard declared <= UInt64(maximumHeaderSize) else {
            throw CheckpointError.headerTooLarge(declared: declared, maximum: maximumHeaderSize)
        }
        let headerSize = Int(declared)
        guard headerSize <= raw.count - 8 else {
            throw CheckpointError.headerExceedsFile(declared: declared, available: raw.count - 8)
        }
        let header = try SafeTensorsHeader(parsing: Array(raw[8..<(8 + headerSize)]))
        let dataSection = UnsafeRawBufferPointer(rebasing: raw[(8 + headerSize)...])

        // Each entry alone: dtype, size, offsets.
        var dtypes: [DType] = []
        for entry in header.entries {
            guard let dtype = dtype(ofCode: entry.dtype) else {
                throw CheckpointError.unsupportedDType(tensor: entry.name, dtype: entry.dtype)
            }
            // Every partial product of the dimensions fits in Int (zeros count as
            // 1 here), so no later shape arithmetic anywhere can overflow.
            var bound = dtype.byteSize
            for d in entry.shape {
                let (p, overflow) = bound.multipliedReportingOverflow(by: max(d, 1))
                guard !overflow else { throw CheckpointError.shapeOverflow(tensor: entry.name, shape: entry.shape) }
                bound = p
            }
            let expected = entry.shape.reduce(1, *) * dtype.byteSize
            guard entry.begin <= entry.end, entry.end <= dataSection.count else {
                throw CheckpointError.offsetsOutOfRange(tensor: entry.name, begin: entry.begin, end: entry.end, dataSize: dataSection.count)
            }
            guard entry.end - entry.begin == expected else {
                throw CheckpointError.byteCountMismatch(tensor: entry.name, expected: expected, actual: entry.end - entry.begin)
            }
            dtypes.append(dtype)
        }

        // All entries together: no overlap, no hole, nothing after the last.
        let byOffset = header.entries.indices.sorted { i, j in
            let a = header.entries[i], b = header.entries[j]
            if a.begin != b.begin { return a.begin < b.begin }
            if a.end != b.end { return a.end < b.end }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        var covered = 0
        var previous: String?
        for i in byOffset {
            let entry = header.entries[i]
            if entry.begin < covered, let previous {
                throw CheckpointError.overlappingTensors(first: previous, second: entry.name)
            }
            if entry.begin > covered { throw CheckpointError.uncoveredData(begin: covered, end: entry.begin) }
            covered = entry.end
            previous = entry.name
        }
        if covered != dataSection.count { throw CheckpointError.uncoveredData(begin: covered, end: dataSection.count) }

        var tensors: [String: TensorValue] = [:]
        tensors.reserveCapacity(header.entries.count)
        for (entry, dtype) in zip(header.entries, dtypes) {
            let bytes = UnsafeRawBufferPointer(rebasing: dataSection[entry.begin..<entry.end])
            let storage: TensorValue.Storage = switch dtype {
            case .float32: .float32(TensorBuffer(readLittleEndian(UInt32.self, bytes).map(Float.init(bitPattern:))))
            case .float64: .float64(TensorBuffer(readLittleEndian(UInt64.self, bytes).map(Double.init(bitPattern:))))
            case .int32: .int32(TensorBuffer(readLittleEndian(Int32.self, bytes)))
            }
            tensors[entry.name] = try TensorValue(shape: entry.shape, storage: storage)
        }
        return (tensors, header.metadata)
    }

    // MARK: dtypes

    /// The safetensors code of a dtype: `F32`, `F64`, `I32`.
    static func code(of dtype: DType) -> String {
        switch dtype {
        case .float32: "F32"
        case .float64: "F64"
        case .int32: "I32"
        }
    }

    /// The dtype of a safetensors code, or `nil` outside the closed set.
    static func dtype(ofCode code: String) -> DType? {
        switch code {
        case "F32": .float32
        case "F64": .float64
        case "I32": .int32
        default: nil
        }
    }

    /// The position of a dtype in the reference's `Dtype` enum (…, I32, U32, F32,
    /// F64, …), which orders tensors of equal element size.
    static func dtypeRank(_ dtype: DType) -> Int {
        switch dtype {
        case .int32: 0
        case .float32: 1
        case .float64: 2
        }
    }

    // MARK: bytes

    static func appendLittleEndian<T: FixedWidthInteger>(_ values: [T], to data: inout Data) {
        #if _endian(little)
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        #else
        values.map(\.littleEndian).withUnsafeBytes { data.append(contentsOf: $0) }
        #endif
    }

    /// The integers stored little-endian in `bytes` (any alignment; the count is a
    /// whole number of elements, checked by the caller).
    static func readLittleEndian<T: FixedWidthInteger>(_: T.Type, _ bytes: UnsafeRawBufferPointer) -> [T] {
        let n = bytes.count / MemoryLayout<T>.size
        let values = [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            if n > 0 {
                let source = UnsafeRawBufferPointer(rebasing: bytes[0..<(n * MemoryLayout<T>.size)])
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            }
            initialized = n
        }
        #if _endian(little)
        return values
        #else
        return values.map { T(littleEndian: $0) }
        #endif
    }
}
