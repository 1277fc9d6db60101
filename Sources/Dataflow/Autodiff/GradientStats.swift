/// Node counts of the joint gradient versus one `grad` call per parameter (the
/// seed's question: does the separate form recompute the upper layers' terms?).
///
/// ```swift
/// let stats = try GradientStats.measure { g in
///     let net = try SeedNetwork(in: g, sizes: [7, 5, 4, 3])
///     return (net.loss, net.parameters)
/// }
/// stats.separateMerged == stats.joint   // true
/// ```
public struct GradientStats: Sendable, Hashable, CustomStringConvertible {
    /// Nodes added by one joint `grad(of: loss, wrt: all)`.
    public var joint: Int
    /// The sum over separate calls of each call's own gradient subgraph (nodes
    /// reachable from its result that are not forward nodes): what a framework
    /// without merging builds (pytensor: 255 against 85 joint).
    public var separateRaw: Int
    /// Distinct nodes added by all separate calls, after hash-consing.
    public var separateMerged: Int
    /// Whether the separate calls returned exactly the joint call's nodes.
    public var separateEqualsJoint: Bool

    public init(joint: Int, separateRaw: Int, separateMerged: Int, separateEqualsJoint: Bool) {
        self.joint = joint
        self.separateRaw = separateRaw
        self.separateMerged = separateMerged
        self.separateEqualsJoint = separateEqualsJoint
    }

    /// Builds the forward graph twice with `build` (each time in a fresh graph) and
    /// counts the nodes of the joint and of the separate gradients.
    /// - Parameter build: builds the forward graph and returns the loss and the
    ///   tensors to differentiate with respect to.
    /// - Throws: whatever `build` or `grad` throws.
    public static func measure(_ build: (Graph) throws -> (loss: Tensor, wrt: [Tensor])) throws -> GradientStats {
        let jointGraph = Graph()
        let (jointLoss, jointWrt) = try build(jointGraph)
        let before = jointGraph.nodeCount
        _ = try grad(of: jointLoss, wrt: jointWrt)
        let joint = jointGraph.nodeCount - before

        let graph = Graph()
        let (loss, wrt) = try build(graph)
        let forward = graph.nodeCount
        var raw = 0
        var separate: [NodeID] = []
        for w in wrt {
            let g = try grad(of: loss, wrt: w)
            separate.append(g.id)
            raw += subgraphSize(of: g.id, in: graph, from: forward)
        }
        let merged = graph.nodeCount - forward
        let together = try grad(of: loss, wrt: wrt).map(\.id)
        let equal = together == separate && graph.nodeCount - forward == merged
        return GradientStats(joint: joint, separateRaw: raw, separateMerged: merged, separateEqualsJoint: equal)
    }

    /// The number of nodes with id ≥ `first` reachable from `root` through inputs.
    static func subgraphSize(of root: NodeID, in graph: Graph, from first: Int) -> Int {
        let nodes = graph.nodes
        guard root.rawValue >= first else { return 0 }
        var seen = Set([root.rawValue])
        var stack = [root.rawValue]
        while let i = stack.popLast() {
            for input in nodes[i].inputs where input.rawValue >= first && seen.insert(input.rawValue).inserted {
                stack.append(input.rawValue)
            }
        }
        return seen.count
    }

    public var description: String {
        "joint \(joint) nodes; separate \(separateRaw) raw, \(separateMerged) "
            + "merged\(separateEqualsJoint ? " (same nodes as joint)" : " (DIFFERENT from joint)")"
    }
}
