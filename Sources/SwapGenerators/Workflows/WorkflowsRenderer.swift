import SwapTopology

// Under construction.
public struct WorkflowsRenderer: ProjectRenderer {
    public init() {}
    public func render(_ environments: [Topology]) -> RenderOutput { RenderOutput() }
}
