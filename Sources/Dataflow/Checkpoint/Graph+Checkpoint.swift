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
    /// - Returns: one snapshot value per parameter.
    /// - Throws: `CheckpointError.duplicateParameterName` if two parameters share a name.
    public func parameterValuesByName() throws -> [String: TensorValue] {
        var values: [String: TensorValue] = [:]
        for (name, tensor) in try parametersByName() {
            values[name] = try value(of: tensor)
        }
        return values
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
        let byName = try parametersByName()
        let sorted = { (names: [String]) in names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
        if strict {
            let missing = byName.keys.filter { values[$0] == nil }
            if !missing.isEmpty { throw CheckpointError.missingTensors(sorted(missing)) }
            let unexpected = values.keys.filter { byName[$0] == nil }
            if !unexpected.isEmpty { throw CheckpointError.unexpectedTensors(sorted(unexpected)) }
        }
        var updates: [(Tensor, TensorValue)] = []
        for name in sorted(Array(values.keys)) {
            guard let tensor = byName[name], let value = values[name] else { continue }
            let node = node(tensor.id)
            guard node.dtype == value.dtype else {
                throw CheckpointError.dtypeMismatch(tensor: name, expected: node.dtype, actual: value.dtype)
            }
            guard let shape = node.shape.resolved(), shape == value.shape else {
                throw CheckpointError.shapeMismatch(tensor: name, expected: node.shape.resolved() ?? [], actual: value.shape)
            }
            updates.append((tensor, value))
        }
        // Everything is checked: a parameter's dtype and shape never change, so
        // these assignments cannot fail.
        // (Each takes the graph's locks on its own; a run between two of them would
        // see some parameters loaded. See the report: a batch setter would close it.)
        for (tensor, value) in updates {
            try setValue(value, of: tensor)
        }
    }

    /// The parameter tensors by name.
    /// - Throws: `CheckpointError.duplicateParameterName` if two share a name.
    func parametersByName() throws -> [String: Tensor] {
        var byName: [String: Tensor] = [:]
        for tensor in parameters {
            let name = node(tensor.id).name ?? tensor.label
            guard byName.updateValue(tensor, forKey: name) == nil else {
                throw CheckpointError.duplicateParameterName(name)
            }
        }
        return byName
    }
}
