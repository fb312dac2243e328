import SwapTopology

/// Droplet provisioning for a Swarm environment: cloud-init user data for
/// manager and worker droplets (Docker, a `deploy` user with SSH keys only,
/// the firewall, security upgrades, swap, Docker log rotation) and
/// `swarm-bootstrap.sh`, which forms the Swarm, labels the nodes for the
/// stack's placement constraints and creates its external secrets.
public struct ProvisioningRenderer: EnvironmentRenderer {
    public init() {}

    public var targets: Set<DeploymentTarget> { [.swarm] }

    public func render(_ topology: Topology) -> RenderOutput {
        let facts = ProvisioningFacts(topology: topology)
        let folder = "\(topology.environment)/provisioning"
        var output = RenderOutput(files: [
            GeneratedFile(path: "\(folder)/cloud-init-manager.yaml", contents: CloudInit.render(facts, role: .manager)),
            GeneratedFile(path: "\(folder)/cloud-init-worker.yaml", contents: CloudInit.render(facts, role: .worker)),
            GeneratedFile(path: "\(folder)/swarm-bootstrap.sh", contents: SwarmBootstrapScript.render(facts), executable: true),
        ])
        if facts.dataNodesNeeded > facts.nodeCount {
            output.notes.append(GenerationNote(
                environment: topology.environment,
                message: "the stack needs \(facts.dataNodesNeeded) data nodes (one per node of the largest broker) "
                    + "but cluster has \(facts.nodeCount) nodes: swarm-bootstrap.sh refuses to run until there are enough"
            ))
        }
        return output
    }
}
