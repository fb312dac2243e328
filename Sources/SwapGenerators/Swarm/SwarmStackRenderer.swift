import SwapTopology

// Under construction.
public struct SwarmStackRenderer: EnvironmentRenderer {
    public init() {}
    public var targets: Set<DeploymentTarget> { [] }
    public func render(_ topology: Topology) -> RenderOutput { RenderOutput() }
}
