import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Atomic saving and loading of safetensors files.
///
/// A save never leaves a torn file behind: the bytes go to a temporary file in
/// the target's directory, which is flushed to disk (`fsync`) and then renamed over
/// the target (`rename(2)` is atomic within one file system). A reader sees the old
/// file or the new one, never a mix; after a crash the target is the old file or
/// the new one. On any failure the temporary file is removed and the target is
/// untouched.
extension SafeTensors {
    /// The steps of `save`, where tests inject failures.
    enum SaveStep: Sendable, CaseIterable {
        /// The temporary file exists and is empty.
        case created
        /// The first half of the bytes has been written.
        case halfWritten
        /// All bytes are written and synced; the rename comes next.
        case synced
    }

    /// Writes tensors and metadata to `url` as a safetensors file, atomically.
    ///
    /// ```swift
    /// let url = URL(fileURLWithPath: "model.safetensors")
    /// try SafeTensors.save(["w": w, "b": b], to: url, metadata: ["epoch": "3"])
    /// ```
    ///
    /// - Parameters:
    ///   - tensors: the tensors by name (see `encode(_:metadata:)` for the layout).
    ///   - url: a file URL; an existing file there is replaced.
    ///   - metadata: free-form string pairs stored in `__metadata__`.
    /// - Throws: `CheckpointError.reservedName`, or `.fileSystem` naming the path and
    ///   the step that failed (create, write, sync, rename). The file at `url`, if
    ///   any, is then unchanged and no temporary file remains.
    public static func save(_ tensors: [String: TensorValue], to url: URL, metadata: [String: String] = [:]) throws {
        try save(tensors, to: url, metadata: metadata, failing: { _ in })
    }

    /// `save`, calling `failing` after each step so that tests can make it fail there.
    static func save(_ tensors: [String: TensorValue], to url: URL, metadata: [String: String],
                     failing inject: (SaveStep) throws -> Void) throws {
        let bytes = try encode(tensors, metadata: metadata)
        try writeAtomically(bytes, to: url, failing: inject)
    }

    /// Replaces the file at `url` by `bytes`: temporary file, write, fsync, rename.
    static func writeAtomically(_ bytes: Data, to url: URL, failing inject: (SaveStep) throws -> Void) throws {
        let target = url.standardizedFileURL
        let directory = target.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(target.lastPathComponent).\(UUID().uuidString).tmp")
        func failure(_ operation: String, _ error: any Error) -> CheckpointError {
            if let error = error as? CheckpointError { return error }
            return .fileSystem(path: temporary.path, operation: operation, reason: "\(error)")
        }

        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else {
            throw CheckpointError.fileSystem(path: temporary.path, operation: "create", reason: String(cString: strerror(errno)))
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)
        var closed = false
        defer { if !closed { try? handle.close() } }
        do {
            try inject(.created)
            let half = bytes.count / 2
            try handle.write(contentsOf: bytes.prefix(half))
            try inject(.halfWritten)
            try handle.write(contentsOf: bytes.dropFirst(half))
            try handle.synchronize()
            try inject(.synced)
            closed = true
            try handle.close()
        } catch {
            unlink(temporary.path)
            throw failure("write", error)
        }
        guard rename(temporary.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw CheckpointError.fileSystem(path: target.path, operation: "rename the temporary file over", reason: reason)
        }
        // Make the rename itself durable. Best effort: the file is already complete.
        let directoryDescriptor = open(directory.path, O_RDONLY)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// Reads a safetensors file.
    ///
    /// ```swift
    /// let (tensors, metadata) = try SafeTensors.load(from: url)
    /// ```
    ///
    /// - Parameter url: a file URL.
    /// - Returns: the tensors by name and the `__metadata__` map (empty if absent).
    /// - Throws: `CheckpointError.fileSystem` if the file cannot be read; otherwise
    ///   what `decode(_:)` throws for malformed contents.
    public static func load(from url: URL) throws -> (tensors: [String: TensorValue], metadata: [String: String]) {
        let data: Data
        do {
            // Read, not mapped: a mapped file truncated by another process would
            // raise SIGBUS on access instead of an error.
            data = try Data(contentsOf: url)
        } catch {
            throw CheckpointError.fileSystem(path: url.path, operation: "read", reason: "\(error)")
        }
        return try decode(data)
    }
}
