/// What an optimizer adds to a training program: the updates to compile and the
/// state parameters it created for them.
///
/// ```swift
/// let step = try Adam(learningRate: 1e-3).minimize(loss, parameters: [w, b])
/// step.state.map(\.label)   // ["adam.t", "adam.beta1Power", "adam.beta2Power", "adam.m.w", "adam.v.w", …]
/// let train = try compile(inputs: [x, y], outputs: [loss], updates: step.updates)
/// ```
///
/// The updates are simultaneous assignments: each reads the values from before the
/// call, so a parameter's update is written in terms of its state's *new* value
/// expression, not of the state parameter.
public struct OptimizerStep: Sendable {
    /// The updates of the trained parameters, then of the state parameters.
    public var updates: [ParameterUpdate]
    /// The state parameters created (moments, buffers, step counter), in creation
    /// order; saved by `Graph.saveParameters(to:)` like any parameter.
    public var state: [Tensor]

    /// A step from its updates and state.
    ///
    /// - Parameters:
    ///   - updates: parameter updates, as compiled by `compile(inputs:outputs:updates:)`.
    ///   - state: the state parameters those updates maintain.
    public init(updates: [ParameterUpdate] = [], state: [Tensor] = []) {
        self.updates = updates
        self.state = state
    }
}
