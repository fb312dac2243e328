import SwapTopology

/// A broker as KRaft nodes of the official `apache/kafka` image: every node
/// is a combined broker and controller, named by `KafkaNaming`.
struct KafkaCluster {
    var broker: Broker
    var topology: Topology

    /// Where the topic-creation script is mounted in the one-shot job.
    static let scriptPath = "/opt/swap/create-topics.sh"
    static let dataPath = "/var/lib/kafka/data"

    var indices: [Int] { Array(1...broker.nodes.value) }

    func nodeName(_ index: Int) -> String { KafkaNaming.node(broker, index) }
    var nodeNames: [String] { indices.map(nodeName) }
    func volumeName(_ index: Int) -> String { "\(nodeName(index))-data" }

    /// The one-shot job that runs `kafka/create-topics.sh`.
    var topicsJobName: String { "\(broker.name)-topics" }

    var bootstrap: String { Addresses.docker.broker(broker).joined(separator: ",") }

    var quorumVoters: String {
        indices.map { "\($0)@\(nodeName($0)):\(KafkaNaming.controllerPort)" }.joined(separator: ",")
    }

    /// Replication settings derived from the node count and the topology's min_insync.
    var replication: Int { broker.internalReplication }
    var minInsync: Int { min(broker.effectiveMinInsync, replication) }

    /// Per-node settings: the image turns `KAFKA_*` into server.properties.
    /// Setting any of them drops the image defaults, so this list is complete.
    func environment(node index: Int) -> [(String, String)] {
        var variables: [(String, String)] = [
            ("KAFKA_NODE_ID", String(index)),
            ("KAFKA_PROCESS_ROLES", "broker,controller"),
            ("CLUSTER_ID", clusterID),
            ("KAFKA_LISTENERS", "PLAINTEXT://:\(KafkaNaming.clientPort),CONTROLLER://:\(KafkaNaming.controllerPort)"),
            ("KAFKA_ADVERTISED_LISTENERS", "PLAINTEXT://\(nodeName(index)):\(KafkaNaming.clientPort)"),
            ("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"),
            ("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER"),
            ("KAFKA_INTER_BROKER_LISTENER_NAME", "PLAINTEXT"),
            ("KAFKA_CONTROLLER_QUORUM_VOTERS", quorumVoters),
            ("KAFKA_LOG_DIRS", Self.dataPath),
            // Topics come from the topology through the topic job, never by accident.
            ("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false"),
            ("KAFKA_DEFAULT_REPLICATION_FACTOR", String(replication)),
            ("KAFKA_MIN_INSYNC_REPLICAS", String(minInsync)),
            ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", String(replication)),
            ("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", String(replication)),
            ("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", String(minInsync)),
        ]
        if let memory = broker.resources.memory {
            // Half the container limit for the heap, the rest for page cache and metaspace.
            let megabytes = max(256, Int(memory.bytes / 2 / (1 << 20)))
            variables.append(("KAFKA_HEAP_OPTS", "-Xms\(megabytes)m -Xmx\(megabytes)m"))
        }
        return variables
    }

    /// A broker answers API requests on its client listener; the JVM needs a minute to start.
    static let healthcheck = DockerYAML.healthcheck(
        ["CMD-SHELL", "/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server 127.0.0.1:\(KafkaNaming.clientPort) > /dev/null 2>&1"],
        interval: .seconds(15), timeout: .seconds(10), retries: 5, startPeriod: .seconds(60)
    )

    /// The job runs the generated script with bash (the image's shell for the Kafka tools).
    var topicsJobEntrypoint: [String] { ["bash", Self.scriptPath] }
    var topicsJobEnvironment: [(String, String)] { [("KAFKA_BOOTSTRAP", bootstrap)] }

    /// KRaft's cluster id: 16 bytes, URL-safe base64 without padding, the same
    /// on every node. Derived from the project, environment and broker so the
    /// output stays deterministic; it identifies the cluster, it is not a secret.
    var clusterID: String {
        let seed = "\(topology.project)/\(topology.environment)/\(broker.name)"
        let bytes = Self.fnv1a(seed, basis: 0xcbf2_9ce4_8422_2325) + Self.fnv1a(seed, basis: 0x6c62_272e_07bb_0142)
        return Self.base64URL(bytes)
    }

    private static func fnv1a(_ text: String, basis: UInt64) -> [UInt8] {
        var hash = basis
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return (0..<8).map { UInt8(truncatingIfNeeded: hash >> (56 - 8 * $0)) }
    }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var out = ""
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value = 0
            for byte in chunk { value = value << 8 | Int(byte) }
            value <<= 8 * (3 - chunk.count)
            for position in 0...chunk.count {
                out.append(alphabet[(value >> (18 - 6 * position)) & 63])
            }
            index += 3
        }
        return out
    }
}
