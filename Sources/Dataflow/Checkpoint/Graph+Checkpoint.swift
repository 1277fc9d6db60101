import Foundation

/// Saving and loading a graph's parameters as a safetensors checkpoint, keyed by
/// the parameters' names (interoperable with PyTorch's `state_dict` files).
extension Graph {
    /// The current value of every parameter, keyed by its name.
    ///
    /// ```swift
    /// let values = try g.parameterValuesByName()
    /// values["w1"]?.shape      // [784, 100]
    /// ```
    ///
    /// - Returns: one value per parameter, all read at one moment (between two
    ///   compiled calls); later updates never change them.
    /// - Throws: `CheckpointError.duplicateParameterName` if two parameters share a name.
    public func parameterValuesByName() throws -> [String: TensorValue] {
        // One hold of the run lock for all parameters: a consistent snapshot, never
        // half before and half after a training step. Each buffer is marked as
        // handed out, as `value(of:)` does, so later in-place updates copy first.
        try runLock.withLock { _ throws(CheckpointError) in
            try storage.withLock { s throws(CheckpointError) in
                let byName = try Self.parameterIndices(s)
                var values: [String: TensorValue] = [:]
                for (name, i) in byName {
                    s.parameters[i].shared = true
                    values[name] = s.parameters[i].value
                }
                return values
            }
        }
    }

    /// Writes every parameter's current value to a safetensors file, atomically.
    ///
    /// Tensor names are the parameters' names. The file is written to a temporary
    /// file beside `url`, synced, then renamed over `url`: an existing checkpoint
    /// is replaced whole or not at all.
    ///
    /// ```swift
    /// let g = Graph()
    /// let w = g.parameter("w", try .zeros([784, 10], .float32))
    /// try g.saveParameters(to: URL(fileURLWithPath: "mlp.safetensors"), metadata: ["epoch": "3"])
    /// ```
    ///
    /// - Parameters:
    ///   - url: a file URL; an existing file there is replaced.
    ///   - metadata: free-form string pairs stored in the file's `__metadata__`.
    /// - Throws: `CheckpointError.duplicateParameterName` if two parameters share a
    ///   name (nothing is written); `.reservedName` for a parameter named
    ///   `__metadata__`; `.fileSystem` if writing fails (the old file is intact).
    public func saveParameters(to url: URL, metadata: [String: String] = [:]) throws {
        try SafeTensors.save(parameterValuesByName(), to: url, metadata: metadata)
    }

    /// Replaces parameters' values by the tensors of a safetensors file, all or none.
    ///
    /// Every tensor is matched to the parameter of the same name and checked
    /// (dtype, shape) before any value is set: if anything is wrong, no parameter
    /// changes. With `strict` (the default), the file must hold exactly the
    /// parameters' names; without it, parameters the file lacks keep their values
    /// and tensors that name no parameter are ignored.
    ///
    /// ```swift
    /// let g = Graph()
    /// let w = g.parameter("w", try .zeros([784, 10], .float32))
    /// let metadata = try g.loadParameters(from: URL(fileURLWithPath: "mlp.safetensors"))
    /// metadata["epoch"]     // "3"
    /// ```
    ///
    /// - Parameters:
    ///   - url: a safetensors file.
    ///   - strict: whether missing and unexpected tensors are errors.
    /// - Returns: the file's `__metadata__` map (empty if absent).
    /// - Throws: `CheckpointError`: what `SafeTensors.load(from:)` throws for an
    ///   unreadable or malformed file; `.missingTensors` / `.unexpectedTensors`
    ///   (strict only) listing the names; `.dtypeMismatch` / `.shapeMismatch` naming
    ///   the tensor with the expected and actual values; `.duplicateParameterName`.
    @discardableResult
    public func loadParameters(from url: URL, strict: Bool = true) throws -> [String: String] {
        let (tensors, metadata) = try SafeTensors.load(from: url)
        try setParameterValues(tensors, strict: strict)
        return metadata
    }

    /// Replaces parameters' values by tensors keyed by parameter name, all or none.
    ///
    /// The in-memory half of `loadParameters(from:strict:)`, with the same checks.
    ///
    /// ```swift
    /// try g.setParameterValues(["w": try TensorValue(shape: [2], floats: [1, 2])])
    /// ```
    ///
    /// - Parameters:
    ///   - values: the new values by parameter name.
    ///   - strict: whether missing and unexpected names are errors.
    /// - Throws: `CheckpointError` as for `loadParameters(from:strict:)`; no
    ///   parameter changes when it throws.
    public func setParameterValues(_ values: [String: TensorValue], strict: Bool = true) throws {
        // Checked and assigned under one hold of the run lock (then the storage
        // lock, the order `setValue` uses): no compiled call sees some parameters
        // loaded and others not.
        try runLock.withLock { _ throws(CheckpointError) in
            try storage.withLock { s throws(CheckpointError) in
                let byName = try Self.parameterIndices(s)
                let sorted = { (names: [String]) in names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
                if strict {
                    let missing = byName.keys.filter { values[$0] == nil }
                    if !missing.isEmpty { throw CheckpointError.missingTensors(sorted(missing)) }
                    let unexpected = values.keys.filter { byName[$0] == nil }
                    if !unexpected.isEmpty { throw CheckpointError.unexpectedTensors(sorted(unexpected)) }
                }
                var updates: [(Int, TensorValue)] = []
                for name in sorted(Array(values.keys)) {
                    guard let i = byName[name], let value = values[name] else { continue }
                    let current = s.parameters[i].value
                    guard current.dtype == value.dtype else {
                        throw CheckpointError.dtypeMismatch(tensor: name, expected: current.dtype, actual: value.dtype)
                    }
                    guard current.shape == value.shape else {
                        throw CheckpointError.shapeMismatch(tensor: name, expected: current.shape, actual: value.shape)
                    }
                    updates.append((i, value))
                }
                // Everything is checked; nothing below can fail. The new buffers
                // are marked as handed out, as `setValue` does (the caller may hold
                // them), so a program updating them in place copies first.
                for (i, value) in updates {
                    s.parameters[i].value = value
                    s.parameters[i].shared = true
                }
            }
        }
    }

    /// The index of each parameter in `storage.parameters`, by name.
    /// - Throws: `CheckpointError.duplicateParameterName` if two share a name.
    static func parameterIndices(_ s: GraphStorage) throws(CheckpointError) -> [String: Int] {
        var byName: [String: Int] = [:]
        for (i, parameter) in s.parameters.enumerated() {
            guard byName.updateValue(i, forKey: parameter.name) == nil else {
                throw CheckpointError.duplicateParameterName(parameter.name)
            }
        }
        return byName
    }
}
