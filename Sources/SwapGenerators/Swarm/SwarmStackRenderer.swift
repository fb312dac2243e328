import SwapTopology

/// `<env>/stack.yml` for `docker stack deploy`: pre-built images, rolling
/// updates with automatic rollback, external secrets, encrypted overlays,
/// stateful services pinned to the data nodes, and no `depends_on` (Swarm
/// rejects its long form and ignores the short one).
public struct SwarmStackRenderer: EnvironmentRenderer {
    public init() {}

    public var targets: Set<DeploymentTarget> { [.swarm] }

    public func render(_ topology: Topology) -> RenderOutput {
        var stack = SwarmStack(topology: topology)
        stack.build()
        let document: YAMLValue = .map([
            ("version", .string("3.8")),
            ("services", .map(stack.services)),
            ("networks", .map(stack.networks)),
            ("volumes", stack.volumes.isEmpty ? nil : .map(stack.volumes.map { ($0, .map([])) })),
            ("secrets", stack.secrets.isEmpty ? nil : .map(stack.secrets.map { name in
                (name, .map([("external", .bool(true)), ("name", .string(SwarmStack.secretName(name, topology)))]))
            })),
            ("configs", stack.configs.topLevel),
        ])
        let contents = GeneratedHeader.hash(topology.environment) + commentary(topology) + document.render()
        return RenderOutput(
            files: [GeneratedFile(path: "\(topology.environment)/stack.yml", contents: contents)],
            notes: stack.notes.map { GenerationNote(environment: topology.environment, message: $0) }
        )
    }

    private func commentary(_ topology: Topology) -> String {
        let label = topology.cluster.dataNodeLabel
        return [
            "Deploy with scripts/deploy.sh (docker stack deploy reads no .env file): SWAP_TAG names the",
            "image tag and must be exported; secrets are external, `docker secret create \(topology.project)_<name> FILE`.",
            "There is no depends_on: every service retries its dependencies and reports /ready",
            "only when they answer, and Swarm restarts it until its health check passes.",
            "Datastores, broker nodes and Prometheus keep node-local volumes, so they run only on",
            "nodes labelled \(label)=true (`docker node update --label-add \(label)=true NODE`).",
            "nginx publishes 80/443 in host mode: the routing mesh would replace the client",
            "address with an internal one, and nginx's rate limits and logs need the real one.",
            "Configs are immutable in Swarm: each name ends in a digest of its file.",
        ].map { "# \($0)\n" }.joined()
    }
}

/// The stack document under construction.
struct SwarmStack {
    let topology: Topology
    var services: [(String, YAMLValue)] = []
    var volumes: [String] = []
    var secrets: [String] = []
    var configs: SwarmConfigs
    var notes: [String] = []

    static let frontend = "frontend"
    static let backend = "backend"

    init(topology: Topology) {
        self.topology = topology
        configs = SwarmConfigs(topology: topology)
    }

    static func secretName(_ name: String, _ topology: Topology) -> String { "\(topology.project)_\(name)" }

    /// Encrypted overlays: the frontend joins nginx to the routed services, the
    /// backend everything else. The backend is attachable so one-off jobs
    /// (`deploy.sh` creating topics) can join it, and not internal because
    /// services reach a managed database, S3 and ACME outside the cluster.
    var networks: [(String, YAMLValue)] {
        [
            (Self.frontend, .map([("driver", .string("overlay")), ("driver_opts", .map([("encrypted", .string(""))]))])),
            (Self.backend, .map([
                ("driver", .string("overlay")),
                ("attachable", .bool(true)),
                ("driver_opts", .map([("encrypted", .string(""))])),
            ])),
        ]
    }

    mutating func build() {
        for store in topology.containerDatabases { addDatabase(store) }
        for store in topology.caches { addCache(store) }
        for broker in topology.brokers { addBroker(KafkaCluster(broker: broker, topology: topology)) }
        for service in topology.servicesInStartOrder { addService(service) }
        addIngress()
        addMonitoring()
        for store in topology.datastores where store.engine == .postgres && store.backup != nil { addBackup(store) }
        addNotes()
    }

    // MARK: Shared pieces

    mutating func add(_ name: String, _ pairs: [(String, YAMLValue?)], deploy: SwarmDeploy.Spec) {
        services.append((name, .map(pairs + [("logging", DockerYAML.logging), ("deploy", SwarmDeploy.block(deploy))])))
    }

    mutating func volume(_ name: String, at path: String, readOnly: Bool = false) -> String {
        if !volumes.contains(name) { volumes.append(name) }
        return "\(name):\(path)\(readOnly ? ":ro" : "")"
    }

    mutating func secretList(_ names: [String]) -> YAMLValue? {
        for name in names where !secrets.contains(name) { secrets.append(name) }
        return names.isEmpty ? nil : .strings(names)
    }

    var dataNodes: String { "node.labels.\(topology.cluster.dataNodeLabel) == true" }
    var nodeCount: Int { max(1, topology.cluster.managers + topology.cluster.workers) }

    // MARK: Datastores and the broker

    mutating func addDatabase(_ store: Datastore) {
        add(store.name, [
            ("image", .string(DockerImages.datastore(store))),
            ("environment", DockerYAML.environment(PostgresContainer.environment(topology))),
            ("secrets", secretList([InfrastructureSecrets.databasePassword])),
            ("volumes", .strings([volume("\(store.name)-data", at: PostgresContainer.dataPath)])),
            ("networks", .strings([Self.backend])),
            ("healthcheck", PostgresContainer.healthcheck(topology)),
            ("stop_grace_period", .string("1m")),
        ], deploy: .init(kind: .stateful, resources: store.resources, monitor: .seconds(60), constraints: [dataNodes]))
    }

    mutating func addCache(_ store: Datastore) {
        add(store.name, [
            ("image", .string(DockerImages.datastore(store))),
            ("command", DockerYAML.strings(RedisCommand.arguments(store))),
            ("volumes", .strings([volume("\(store.name)-data", at: "/data")])),
            ("networks", .strings([Self.backend])),
            ("healthcheck", RedisCommand.healthcheck),
        ], deploy: .init(kind: .stateful, resources: store.resources, monitor: .seconds(30), constraints: [dataNodes]))
    }

    /// One service per KRaft node, each with its own volume. A node's volume
    /// lives on one machine, so with several nodes each is pinned by a second
    /// label (`<data label>.<broker>=<n>`) to the machine that holds it.
    mutating func addBroker(_ cluster: KafkaCluster) {
        for index in cluster.indices {
            var constraints = [dataNodes]
            if cluster.indices.count > 1 {
                constraints.append("node.labels.\(topology.cluster.dataNodeLabel).\(cluster.broker.name) == \(index)")
            }
            add(cluster.nodeName(index), [
                ("image", .string(DockerImages.kafka)),
                ("environment", DockerYAML.environment(cluster.environment(node: index))),
                ("volumes", .strings([volume(cluster.volumeName(index), at: KafkaCluster.dataPath)])),
                ("networks", .strings([Self.backend])),
                ("healthcheck", KafkaCluster.healthcheck),
                ("stop_grace_period", .string("1m")),
            ], deploy: .init(
                kind: .stateful, resources: cluster.broker.resources, monitor: .seconds(90), constraints: constraints,
                maxReplicasPerNode: 1
            ))
        }
    }

    // MARK: Services

    /// Replicas spread over the cluster's nodes: at most as many per node as
    /// an even spread needs.
    mutating func addService(_ service: Service) {
        let replicas = service.replicas.value
        let perNode = nodeCount > 1 && replicas > 1 ? (replicas + nodeCount - 1) / nodeCount : nil
        let networks = service.routes.isEmpty ? [Self.backend] : [Self.frontend, Self.backend]
        add(service.name, [
            ("image", .string(DockerImages.service(service, in: topology, tag: "${SWAP_TAG:?export SWAP_TAG, the image tag to deploy}"))),
            ("environment", DockerYAML.environment(ServiceEnvironment.variables(for: service, in: topology, addresses: .docker))),
            ("secrets", secretList(DockerSecrets.names(for: service, in: topology))),
            ("networks", .strings(networks)),
            ("healthcheck", DockerYAML.healthcheck(for: service)),
        ], deploy: .init(
            kind: .stateless, replicas: replicas, resources: service.resources,
            monitor: SwarmDeploy.monitor(for: service.health), maxReplicasPerNode: perNode
        ))
    }
}
