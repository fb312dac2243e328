import SwapTopology

/// Where a service finds its peers in one kind of deployment. Compose and
/// Swarm answer with Docker DNS names; the native harness with 127.0.0.1 and
/// the free ports it picked.
public struct Addresses: Sendable {
    public var service: @Sendable (Service) -> String
    public var datastore: @Sendable (Datastore) -> String
    /// `host:port` of every node of a broker.
    public var broker: @Sendable (Broker) -> [String]
    /// Where a secret's file is mounted.
    public var secretFile: @Sendable (String) -> String

    public init(
        service: @escaping @Sendable (Service) -> String,
        datastore: @escaping @Sendable (Datastore) -> String,
        broker: @escaping @Sendable (Broker) -> [String],
        secretFile: @escaping @Sendable (String) -> String
    ) {
        self.service = service
        self.datastore = datastore
        self.broker = broker
        self.secretFile = secretFile
    }

    /// Docker DNS: services and datastores by name on their standard ports,
    /// broker nodes as `<broker>-<n>:9092`, secrets under /run/secrets.
    public static let docker = Addresses(
        service: { "\($0.name):\($0.port.value)" },
        datastore: { "\($0.name):\($0.standardPort)" },
        broker: { broker in (1...broker.nodes.value).map { "\(KafkaNaming.node(broker, $0)):\(KafkaNaming.clientPort)" } },
        secretFile: { "/run/secrets/\($0)" }
    )
}

/// Kafka node names and ports shared by every renderer and the harness.
public enum KafkaNaming {
    public static let clientPort = 9092
    public static let controllerPort = 9093

    public static func node(_ broker: Broker, _ index: Int) -> String {
        broker.nodes.value == 1 ? broker.name : "\(broker.name)-\(index)"
    }
}

/// The environment variables a service reads at start-up: the one contract
/// between the topology, the generated deployments, the harness and the
/// service kit. Secrets are passed as `NAME_FILE` paths, never as values.
public enum ServiceEnvironment {
    public static func variables(for service: Service, in topology: Topology, addresses: Addresses) -> [EnvironmentVariable] {
        var variables: [(String, String)] = [
            ("SERVICE_NAME", service.name),
            ("SWAP_ENVIRONMENT", topology.environment),
            ("PORT", String(service.port.value)),
        ]
        if let database = topology.datastore(of: .postgres, usedBy: service) {
            if database.managed, let urlSecret = database.urlSecret {
                variables.append(("DATABASE_URL_FILE", addresses.secretFile(urlSecret.value)))
            } else {
                let (host, port) = split(addresses.datastore(database))
                variables += [
                    ("DATABASE_HOST", host), ("DATABASE_PORT", port),
                    ("DATABASE_NAME", topology.project), ("DATABASE_USER", topology.project),
                    ("DATABASE_PASSWORD_FILE", addresses.secretFile(InfrastructureSecrets.databasePassword)),
                ]
            }
        }
        if let cache = topology.datastore(of: .redis, usedBy: service) {
            variables.append(("REDIS_URL", "redis://\(addresses.datastore(cache))"))
        }
        if let broker = topology.broker(usedBy: service) {
            variables.append(("KAFKA_BROKERS", addresses.broker(broker).joined(separator: ",")))
            if !service.consumes.isEmpty {
                variables.append(("KAFKA_CONSUMER_GROUP", "\(topology.project)-\(service.name)"))
                variables.append(("KAFKA_TOPICS", service.consumes.map(\.value).joined(separator: ",")))
            }
        }
        for dependency in service.dependsOn {
            guard let upstream = topology.service(named: dependency.value) else { continue }
            let name = environmentName(upstream.name)
            variables.append(("UPSTREAM_\(name)_URL", "http://\(addresses.service(upstream))"))
            if !upstream.api.isEmpty {
                variables.append(("UPSTREAM_\(name)_PREFIXES", upstream.api.map(\.value).joined(separator: ",")))
            }
        }
        for secret in service.secrets where secret.value != InfrastructureSecrets.databasePassword {
            variables.append(("\(environmentName(secret.value))_FILE", addresses.secretFile(secret.value)))
        }
        for setting in service.settings {
            variables.append((setting.environmentName, setting.value))
        }
        for variable in service.env {
            variables.removeAll { $0.0 == variable.name }
            variables.append((variable.name, variable.value))
        }
        return variables.map { EnvironmentVariable(name: $0.0, value: $0.1) }
    }

    /// `financial` -> `FINANCIAL`, `real-time` -> `REAL_TIME`.
    public static func environmentName(_ name: String) -> String {
        name.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }

    private static func split(_ address: String) -> (String, String) {
        guard let colon = address.lastIndex(of: ":") else { return (address, "") }
        return (String(address[..<colon]), String(address[address.index(after: colon)...]))
    }
}
