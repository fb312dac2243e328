import SwapTopology

/// The `deploy:` block of a stack service, by the kind of service it is.
enum SwarmDeploy {
    enum Kind {
        /// Replicated API or worker: start-first rolling updates, rolled back on failure.
        case stateless
        /// A singleton that owns a node-local volume (database, cache, broker node,
        /// Prometheus): stop-first, as the data directory is locked.
        case stateful
        /// nginx with host-mode ports: a second task cannot bind them next to the
        /// first on one node, so stop-first.
        case edge
        /// One task per node (exporters).
        case global
    }

    struct Spec {
        var kind: Kind
        var replicas: Int = 1
        var resources: Resources
        /// Observation window after each task update; a failure inside it counts.
        var monitor: Duration = .seconds(30)
        var constraints: [String] = []
        var maxReplicasPerNode: Int?
    }

    static func block(_ spec: Spec) -> YAMLValue {
        let startFirst = spec.kind == .stateless
        let placement: YAMLValue? = spec.constraints.isEmpty && spec.maxReplicasPerNode == nil ? nil : .map([
            ("constraints", spec.constraints.isEmpty ? nil : .strings(spec.constraints)),
            ("max_replicas_per_node", spec.maxReplicasPerNode.map(YAMLValue.int)),
        ])
        return .map([
            ("mode", .string(spec.kind == .global ? "global" : "replicated")),
            ("replicas", spec.kind == .global ? nil : .int(spec.replicas)),
            ("update_config", .map([
                ("parallelism", .int(1)),
                ("delay", .string("10s")),
                ("order", .string(startFirst ? "start-first" : "stop-first")),
                ("failure_action", .string("rollback")),
                ("monitor", .string(spec.monitor.text)),
                ("max_failure_ratio", .int(0)),
            ])),
            ("rollback_config", .map([
                ("parallelism", .int(1)),
                ("delay", .string("0s")),
                ("order", .string("stop-first")),
                ("failure_action", .string("pause")),
                ("monitor", .string(spec.monitor.text)),
            ])),
            ("restart_policy", restartPolicy(spec.kind)),
            ("resources", resources(spec.resources)),
            ("placement", placement),
        ])
    }

    /// On failure, 5 s apart; a stateless service gets at most 5 restarts per
    /// 2-minute window (Swarm's only backoff), stateful ones are always restarted.
    /// The edge restarts on any exit: nothing else serves the ports.
    static func restartPolicy(_ kind: Kind) -> YAMLValue {
        .map([
            ("condition", .string(kind == .edge ? "any" : "on-failure")),
            ("delay", .string("5s")),
            ("max_attempts", kind == .stateless ? .int(5) : nil),
            ("window", .string("2m")),
        ])
    }

    /// Limits as the topology gives them; reservations hold the whole memory
    /// limit (memory is not compressible, so never overcommit it) and half the
    /// CPU limit (CPU is shared, a busy node only slows down).
    static func resources(_ resources: Resources) -> YAMLValue? {
        guard let limits = DockerYAML.resources(cpus: resources.cpus, memory: resources.memory) else { return nil }
        let reservations = DockerYAML.resources(cpus: resources.cpus.map { $0 / 2 }, memory: resources.memory)
        return .map([("limits", limits), ("reservations", reservations)])
    }

    /// How long a rolling update watches a new task: the health check's worst
    /// case to turn healthy (start period plus interval × retries).
    static func monitor(for health: HealthCheck) -> Duration {
        health.startPeriod + health.interval * health.retries
    }
}

/// Resource caps for the containers the topology gives no resources
/// (nginx, monitoring, jobs); every long-running Swarm task gets limits.
enum InfrastructureResources {
    static let nginx = Resources(cpus: 0.5, memory: ByteSize(bytes: 256 << 20))
    static let certbot = Resources(cpus: 0.25, memory: ByteSize(bytes: 128 << 20))
    static let prometheus = Resources(cpus: 1, memory: ByteSize(bytes: 1 << 30))
    static let alertmanager = Resources(cpus: 0.25, memory: ByteSize(bytes: 128 << 20))
    static let grafana = Resources(cpus: 0.5, memory: ByteSize(bytes: 256 << 20))
    static let nodeExporter = Resources(cpus: 0.25, memory: ByteSize(bytes: 64 << 20))
    static let cadvisor = Resources(cpus: 0.5, memory: ByteSize(bytes: 256 << 20))
    static let backup = Resources(cpus: 0.5, memory: ByteSize(bytes: 512 << 20))
}
