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
    public var allServices: [Service] { didSet { index = Index(self) } }
    public var datastores: [Datastore] { didSet { index = Index(self) } }
    public var brokers: [Broker] { didSet { index = Index(self) } }
    public var secrets: [Secret] { didSet { index = Index(self) } }
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
        index = Index(self)
    }

    /// Positions by name, so lookups stay O(1) and rendering stays linear in the number of services.
    private struct Index: Sendable {
        var services: [String: Int] = [:]
        var datastores: [String: Int] = [:]
        var brokers: [String: Int] = [:]
        var secrets: [String: Int] = [:]

        init() {}

        init(_ topology: Topology) {
            for (offset, service) in topology.allServices.enumerated() where services[service.name] == nil { services[service.name] = offset }
            for (offset, store) in topology.datastores.enumerated() where datastores[store.name] == nil { datastores[store.name] = offset }
            for (offset, broker) in topology.brokers.enumerated() where brokers[broker.name] == nil { brokers[broker.name] = offset }
            for (offset, secret) in topology.secrets.enumerated() where secrets[secret.name] == nil { secrets[secret.name] = offset }
        }
    }

    private var index = Index()

    /// The services that run in this environment, in file order.
    public var services: [Service] { allServices.filter(\.enabled) }

    public func service(named name: String) -> Service? { index.services[name].map { allServices[$0] } }
    public func datastore(named name: String) -> Datastore? { index.datastores[name].map { datastores[$0] } }
    public func broker(named name: String) -> Broker? { index.brokers[name].map { brokers[$0] } }
    public func secret(named name: String) -> Secret? { index.secrets[name].map { secrets[$0] } }

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
        var visiting = Set<String>()
        func place(_ service: Service) {
            guard !placed.contains(service.name), visiting.insert(service.name).inserted else { return }
            for dependency in service.dependsOn {
                if let next = self.service(named: dependency.value), next.enabled { place(next) }
            }
            visiting.remove(service.name)
            placed.insert(service.name)
            ordered.append(service)
        }
        for service in services { place(service) }
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
