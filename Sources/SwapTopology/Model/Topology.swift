/// The validated Swap platform: base topology with one environment overlay applied.
///
/// Generators and the harness read only this model; it is built by
/// `TopologyLoader`, which guarantees that every reference in it resolves.
public struct Topology: Sendable {
    public var version: Int
    public var project: String
    /// Images are `<registry>/<product>:<tag>`.
    public var registry: String
    /// The environment this model was merged for (`local`, `dev`, `staging`, `prod`).
    public var environment: String
    public var target: DeploymentTarget
    public var ingress: Ingress
    /// Every declared service, enabled or not, in file order.
    public var allServices: [Service]
    public var datastores: [Datastore]
    public var brokers: [Broker]
    public var secrets: [Secret]
    public var monitoring: Monitoring
    public var cluster: Cluster

    public init(
        version: Int, project: String, registry: String, environment: String, target: DeploymentTarget,
        ingress: Ingress, allServices: [Service], datastores: [Datastore], brokers: [Broker],
        secrets: [Secret], monitoring: Monitoring, cluster: Cluster
    ) {
        self.version = version
        self.project = project
        self.registry = registry
        self.environment = environment
        self.target = target
        self.ingress = ingress
        self.allServices = allServices
        self.datastores = datastores
        self.brokers = brokers
        self.secrets = secrets
        self.monitoring = monitoring
        self.cluster = cluster
    }

    /// The services that run in this environment, in file order.
    public var services: [Service] { allServices.filter(\.enabled) }

    public func service(named name: String) -> Service? { allServices.first { $0.name == name } }
    public func datastore(named name: String) -> Datastore? { datastores.first { $0.name == name } }
    public func broker(named name: String) -> Broker? { brokers.first { $0.name == name } }
    public func secret(named name: String) -> Secret? { secrets.first { $0.name == name } }

    /// Every topic of every broker, with the broker that holds it.
    public var topics: [(broker: Broker, topic: Topic)] {
        brokers.flatMap { broker in broker.topics.map { (broker, $0) } }
    }

    /// The single datastore of an engine a service uses, e.g. its PostgreSQL database.
    public func datastore(of engine: Datastore.Engine, usedBy service: Service) -> Datastore? {
        service.uses.lazy.compactMap { self.datastore(named: $0.value) }.first { $0.engine == engine }
    }

    /// The broker a service uses, if any.
    public func broker(usedBy service: Service) -> Broker? {
        service.uses.lazy.compactMap { self.broker(named: $0.value) }.first
    }

    /// Enabled services in dependency order (dependencies first, then file order).
    public var servicesInStartOrder: [Service] {
        var ordered: [Service] = []
        var placed = Set<String>()
        func place(_ service: Service, visiting: Set<String>) {
            guard !placed.contains(service.name), !visiting.contains(service.name) else { return }
            for dependency in service.dependsOn {
                if let next = self.service(named: dependency.value), next.enabled {
                    place(next, visiting: visiting.union([service.name]))
                }
            }
            placed.insert(service.name)
            ordered.append(service)
        }
        for service in services { place(service, visiting: []) }
        return ordered
    }
}

/// What an environment becomes.
public enum DeploymentTarget: String, Sendable, CaseIterable {
    /// Native processes on one machine (`swapctl up`).
    case processes
    /// One Docker host with `docker compose`.
    case compose
    /// A Docker Swarm cluster with `docker stack deploy`.
    case swarm
}

/// Swarm cluster layout for the placement of stateful services.
public struct Cluster: Sendable {
    /// Node label that marks the nodes allowed to run datastores and brokers.
    public var dataNodeLabel: String
    public var managers: Int
    public var workers: Int

    public init(dataNodeLabel: String = "swap.data", managers: Int = 1, workers: Int = 0) {
        self.dataNodeLabel = dataNodeLabel
        self.managers = managers
        self.workers = workers
    }
}
