import SwapTopology

// Under construction.
public struct DockerfileRenderer: ProjectRenderer {
    public init() {}
    public func render(_ environments: [Topology]) -> RenderOutput { RenderOutput() }
}
