import SwapTopology

/// `dev/docker-compose.yml`: the whole platform on one Docker host.
///
/// Services are built from the repository (`generated/docker/Dockerfile`),
/// start in dependency order through long-form `depends_on` conditions, read
/// secrets from the git-ignored `secrets/` folder that `swapctl secrets init`
/// fills, and only nginx publishes ports.
public struct ComposeRenderer: EnvironmentRenderer {
    public init() {}

    public var targets: Set<DeploymentTarget> { [.compose] }

    public func render(_ topology: Topology) -> RenderOutput {
        var file = ComposeFile(topology: topology)
        file.build()
        let document: YAMLValue = .map([
            ("name", .string(topology.project)),
            ("services", .map(file.services)),
            ("volumes", file.volumes.isEmpty ? nil : .map(file.volumes.map { ($0, .map([])) })),
            ("secrets", file.secrets.isEmpty ? nil : .map(file.secrets.map { name in
                (name, .map([("file", .string("../../secrets/\(name)"))]))
            })),
        ])
        let contents = GeneratedHeader.hash(topology.environment) + Self.commentary + document.render()
        return RenderOutput(
            files: [GeneratedFile(path: "\(topology.environment)/docker-compose.yml", contents: contents)],
            notes: file.notes.map { GenerationNote(environment: topology.environment, message: $0) }
        )
    }

    static let commentary = """
        # Run from this folder: `docker compose up -d --build` (after `swapctl secrets init`).
        # Images build from the repository root (../..); secrets are files in ../../secrets.

        """
}

/// The compose document under construction: services in start order, then the
/// named volumes and file secrets they mention.
struct ComposeFile {
    let topology: Topology
    var services: [(String, YAMLValue)] = []
    var volumes: [String] = []
    var secrets: [String] = []
    var notes: [String] = []

    init(topology: Topology) { self.topology = topology }

    mutating func build() {
        for store in topology.containerDatabases { addDatabase(store) }
        for store in topology.caches { addCache(store) }
        for broker in topology.brokers { addBroker(KafkaCluster(broker: broker, topology: topology)) }
        for service in topology.servicesInStartOrder { addService(service) }
        addIngress()
        addMonitoring()
        addNotes()
    }

    // MARK: Pieces every container shares

    mutating func add(_ name: String, _ pairs: [(String, YAMLValue?)], restart: String = "unless-stopped") {
        services.append((name, .map(pairs + [("restart", .string(restart)), ("logging", DockerYAML.logging)])))
    }

    mutating func volume(_ name: String, at path: String, readOnly: Bool = false) -> String {
        if !volumes.contains(name) { volumes.append(name) }
        return "\(name):\(path)\(readOnly ? ":ro" : "")"
    }

    mutating func secretList(_ names: [String]) -> YAMLValue? {
        for name in names where !secrets.contains(name) { secrets.append(name) }
        return names.isEmpty ? nil : .strings(names)
    }

    static func dependsOn(_ conditions: [(String, String)]) -> YAMLValue? {
        conditions.isEmpty ? nil : .map(conditions.map { ($0.0, .map([("condition", .string($0.1))])) })
    }

    static func limits(_ resources: Resources) -> YAMLValue? {
        DockerYAML.resources(cpus: resources.cpus, memory: resources.memory).map { .map([("resources", .map([("limits", $0)]))]) }
    }

    // MARK: Infrastructure

    mutating func addDatabase(_ store: Datastore) {
        add(store.name, [
            ("image", .string(DockerImages.datastore(store))),
            ("environment", DockerYAML.environment(PostgresContainer.environment(topology))),
            ("secrets", secretList([InfrastructureSecrets.databasePassword])),
            ("volumes", .strings([volume("\(store.name)-data", at: PostgresContainer.dataPath)])),
            ("healthcheck", PostgresContainer.healthcheck(topology)),
            ("stop_grace_period", .string("1m")),
            ("deploy", Self.limits(store.resources)),
        ])
    }

    mutating func addCache(_ store: Datastore) {
        add(store.name, [
            ("image", .string(DockerImages.datastore(store))),
            ("command", DockerYAML.strings(RedisCommand.arguments(store))),
            ("volumes", .strings([volume("\(store.name)-data", at: "/data")])),
            ("healthcheck", RedisCommand.healthcheck),
            ("deploy", Self.limits(store.resources)),
        ])
    }

    mutating func addBroker(_ cluster: KafkaCluster) {
        for index in cluster.indices {
            add(cluster.nodeName(index), [
                ("image", .string(DockerImages.kafka)),
                ("environment", DockerYAML.environment(cluster.environment(node: index))),
                ("volumes", .strings([volume(cluster.volumeName(index), at: KafkaCluster.dataPath)])),
                ("healthcheck", KafkaCluster.healthcheck),
                ("stop_grace_period", .string("1m")),
                ("deploy", Self.limits(cluster.broker.resources)),
            ])
        }
        add(cluster.topicsJobName, [
            ("image", .string(DockerImages.kafka)),
            ("entrypoint", DockerYAML.strings(cluster.topicsJobEntrypoint)),
            ("environment", DockerYAML.environment(cluster.topicsJobEnvironment)),
            ("volumes", .strings(["./kafka/create-topics.sh:\(KafkaCluster.scriptPath):ro"])),
            ("depends_on", Self.dependsOn(cluster.nodeNames.map { ($0, "service_healthy") })),
        ], restart: "no")
    }

    // MARK: Services

    mutating func addService(_ service: Service) {
        add(service.name, [
            ("image", .string(DockerImages.service(service, in: topology, tag: "${SWAP_TAG:-dev}"))),
            ("build", .map([
                ("context", .string("../..")),
                ("dockerfile", .string("generated/docker/Dockerfile")),
                ("args", .map([("PRODUCT", .string(service.product))])),
            ])),
            ("environment", DockerYAML.environment(ServiceEnvironment.variables(for: service, in: topology, addresses: .docker))),
            ("secrets", secretList(DockerSecrets.names(for: service, in: topology))),
            ("healthcheck", DockerYAML.healthcheck(for: service)),
            ("depends_on", Self.dependsOn(dependencies(of: service))),
            ("deploy", deploy(replicas: service.replicas.value, resources: service.resources)),
        ])
    }

    /// Datastores and brokers healthy, topics created, upstream services healthy.
    func dependencies(of service: Service) -> [(String, String)] {
        var conditions: [(String, String)] = []
        for use in service.uses {
            if let store = topology.datastore(named: use.value), !store.managed {
                conditions.append((store.name, "service_healthy"))
            } else if let broker = topology.broker(named: use.value) {
                let cluster = KafkaCluster(broker: broker, topology: topology)
                conditions += cluster.nodeNames.map { ($0, "service_healthy") }
                conditions.append((cluster.topicsJobName, "service_completed_successfully"))
            }
        }
        for dependency in service.dependsOn {
            if let upstream = topology.service(named: dependency.value), upstream.enabled {
                conditions.append((upstream.name, "service_healthy"))
            }
        }
        return conditions
    }

    func deploy(replicas: Int, resources: Resources) -> YAMLValue {
        let limits = DockerYAML.resources(cpus: resources.cpus, memory: resources.memory)
        return .map([
            ("replicas", .int(replicas)),
            ("resources", limits.map { .map([("limits", $0)]) }),
        ])
    }
}
