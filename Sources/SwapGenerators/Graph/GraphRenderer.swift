import SwapTopology

// Under construction.
public struct GraphRenderer: ProjectRenderer {
    public init() {}
    public func render(_ environments: [Topology]) -> RenderOutput { RenderOutput() }
}
