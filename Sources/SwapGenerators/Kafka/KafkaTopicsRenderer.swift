import SwapTopology

/// `<env>/kafka/create-topics.sh`: creates every topic of the topology with
/// its partitions, replication, retention and the broker's
/// `min.insync.replicas`, after waiting for the broker. Idempotent; meant to
/// run in the official apache/kafka image (`/opt/kafka/bin`).
public struct KafkaTopicsRenderer: EnvironmentRenderer {
    public init() {}

    public var targets: Set<DeploymentTarget> { [.compose, .swarm] }

    public func render(_ topology: Topology) -> RenderOutput {
        let brokers = topology.brokers.filter { !$0.topics.isEmpty }
        guard !brokers.isEmpty else { return RenderOutput() }
        let file = GeneratedFile(
            path: "\(topology.environment)/kafka/create-topics.sh",
            contents: TopicScript.render(topology, brokers: brokers),
            executable: true
        )
        return RenderOutput(files: [file])
    }
}
