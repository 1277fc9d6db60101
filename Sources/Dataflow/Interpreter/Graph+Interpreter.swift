/// What the interpreter reads from a graph (kept here, so that `Graph/` does not
/// know the interpreter's value type).
extension Graph {
    /// Parameter `id`'s elements as doubles, read under the run lock.
    func parameterForInterpreter(_ id: ParameterID) -> DenseValue {
        runLock.withLock { _ in
            storage.withLock { s in
                let v = s.parameters[id.rawValue].value
                return DenseValue(shape: v.shape, data: v.asDoubles())
            }
        }
    }
}
