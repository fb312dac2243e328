import SwapTopology

/// What provisioning derives from the topology: the cluster's shape, the node
/// labels the stack's placement constraints name, and the external secrets.
struct ProvisioningFacts {
    var topology: Topology

    /// The private network the Swarm ports are open to. The topology has no
    /// network layout, so this is a fixed default that the VPC is created
    /// with; deployment.md explains how to use another range.
    static let defaultVPCSubnet = "10.10.0.0/16"
    /// DigitalOcean's private (VPC) interface on its droplets.
    static let defaultVPCInterface = "eth1"
    static let deployUser = "deploy"
    static let swapFileSize = "2G"
    /// Docker's json-file rotation, as the compose and stack files set per service.
    static let logMaxSize = "10m"
    static let logMaxFiles = "3"

    var project: String { topology.project }
    var environment: String { topology.environment }
    var managers: Int { max(1, topology.cluster.managers) }
    var workers: Int { max(0, topology.cluster.workers) }
    var nodeCount: Int { managers + workers }

    /// `swap.data`: nodes allowed to run datastores, broker nodes and monitoring.
    var dataLabel: String { topology.cluster.dataNodeLabel }

    /// Brokers whose nodes are pinned one per machine (`<data label>.<broker>=n`),
    /// exactly as SwarmStack.addBroker constrains them.
    var pinnedBrokers: [(label: String, nodes: Int)] {
        topology.brokers.filter { $0.nodes.value > 1 }.map { ("\(dataLabel).\($0.name)", $0.nodes.value) }
    }

    /// At least one data node, and one per node of the largest pinned broker.
    var dataNodesNeeded: Int { max(1, pinnedBrokers.map(\.nodes).max() ?? 1) }

    /// The stack's external secrets, as stack.yml declares them: key, Swarm name.
    var secrets: [(key: String, swarmName: String)] {
        var stack = SwarmStack(topology: topology)
        stack.build()
        return stack.secrets.map { ($0, SwarmStack.secretName($0, topology)) }
    }
}
