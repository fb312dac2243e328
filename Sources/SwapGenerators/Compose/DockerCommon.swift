import SwapTopology

/// Pinned images of the containers both Docker targets run beside the services.
enum DockerImages {
    static let kafka = "apache/kafka:3.9.0"
    static let nginx = "nginx:1.27-alpine"
    static let certbot = "certbot/certbot:v2.11.0"
    static let prometheus = "prom/prometheus:v2.55.1"
    static let alertmanager = "prom/alertmanager:v0.27.0"
    static let grafana = "grafana/grafana:11.3.0"
    static let nodeExporter = "prom/node-exporter:v1.8.2"
    static let cadvisor = "gcr.io/cadvisor/cadvisor:v0.49.1"

    /// `<registry>/<product>:<tag>`; the tag is a Compose/Swarm interpolation.
    static func service(_ service: Service, in topology: Topology, tag: String) -> String {
        "\(topology.registry.lowercased())/\(service.product):\(tag)"
    }

    /// PostGIS when the database asks for it, the plain Alpine image otherwise.
    static func datastore(_ store: Datastore) -> String {
        switch store.engine {
        case .postgres:
            store.extensions.contains("postgis") ? "postgis/postgis:\(store.version)-3.4" : "postgres:\(store.version)-alpine"
        case .redis:
            "redis:\(store.version)-alpine"
        }
    }

    /// The backup job needs `pg_dump` of the server's major version and busybox `crond`.
    static func backup(_ store: Datastore) -> String { "postgres:\(store.version)-alpine" }
}

/// Small YAML pieces shared by the compose file and the stacks.
enum DockerYAML {
    /// Compose and the stack loader both interpolate `$`: a literal one is `$$`.
    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            out += character == "$" ? "$$" : String(character)
        }
        return out
    }

    static func string(_ text: String) -> YAMLValue { .string(escaped(text)) }

    static func strings(_ items: [String]) -> YAMLValue { .list(items.map(string)) }

    /// Environment as a mapping in the order given, every value a string.
    static func environment(_ variables: [(String, String)]) -> YAMLValue {
        .map(variables.map { ($0.0, string($0.1)) })
    }

    static func environment(_ variables: [EnvironmentVariable]) -> YAMLValue {
        environment(variables.map { ($0.name, $0.value) })
    }

    /// Rotated json-file logs: the default driver never rotates.
    static let logging: YAMLValue = .map([
        ("driver", .string("json-file")),
        ("options", .map([("max-size", .string("10m")), ("max-file", .string("3"))])),
    ])

    static func healthcheck(
        _ test: [String], interval: Duration, timeout: Duration, retries: Int, startPeriod: Duration
    ) -> YAMLValue {
        .map([
            ("test", strings(test)),
            ("interval", .string(interval.text)),
            ("timeout", .string(timeout.text)),
            ("retries", .int(retries)),
            ("start_period", .string(startPeriod.text)),
        ])
    }

    /// The service's own health endpoint, probed with the curl of the runtime image.
    static func healthcheck(for service: Service) -> YAMLValue {
        let health = service.health
        return healthcheck(
            ["CMD", "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:\(service.port.value)\(health.path)"],
            interval: health.interval, timeout: health.timeout, retries: health.retries, startPeriod: health.startPeriod
        )
    }

    /// `cpus` as a string (`"0.5"`) as the stack loader wants it, memory as `256M`.
    static func resources(cpus: Double?, memory: ByteSize?) -> YAMLValue? {
        let pairs: [(String, YAMLValue?)] = [
            ("cpus", cpus.map { .string(decimal($0)) }),
            ("memory", memory.map { .string($0.description) }),
        ]
        return pairs.contains { $0.1 != nil } ? .map(pairs) : nil
    }

    /// `0.5`, `1`, `0.125`: at most three decimals, no trailing zeros.
    static func decimal(_ value: Double) -> String {
        let thousandths = Int((value * 1000).rounded())
        var fraction = String(thousandths % 1000)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? String(thousandths / 1000) : "\(thousandths / 1000).\(fraction)"
    }
}

/// Which secrets a container mounts, derived from the topology.
enum DockerSecrets {
    /// A service's secrets as its environment reads them: the database password
    /// for a database in the stack, the URL secret for a managed one.
    static func names(for service: Service, in topology: Topology) -> [String] {
        var names = service.secrets.map(\.value)
        if let database = topology.datastore(of: .postgres, usedBy: service) {
            if database.managed, let url = database.urlSecret {
                names.removeAll { $0 == InfrastructureSecrets.databasePassword }
                names.append(url.value)
            } else {
                names.append(InfrastructureSecrets.databasePassword)
            }
        }
        return unique(names)
    }

    static func unique(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}

/// What the Docker targets share about the topology's infrastructure.
extension Topology {
    /// PostgreSQL databases that run as a container (not managed).
    var containerDatabases: [Datastore] { datastores.filter { $0.engine == .postgres && !$0.managed } }
    var managedDatabases: [Datastore] { datastores.filter { $0.engine == .postgres && $0.managed } }
    var caches: [Datastore] { datastores.filter { $0.engine == .redis } }

    /// Enabled services that nginx routes to.
    var routedServices: [Service] { servicesInStartOrder.filter { !$0.routes.isEmpty } }

    func hasSecret(_ name: String) -> Bool { secret(named: name) != nil }
}

/// The Redis command line for a cache's persistence and memory cap.
enum RedisCommand {
    static func arguments(_ store: Datastore) -> [String] {
        var arguments = ["redis-server"]
        switch store.persistence {
        case .aof: arguments += ["--appendonly", "yes", "--appendfsync", "everysec"]
        case .rdb: arguments += ["--appendonly", "no", "--save", "300 10"]
        case .none: arguments += ["--appendonly", "no", "--save", ""]
        }
        if let memory = store.maxMemory { arguments += ["--maxmemory", memory.redis] }
        return arguments
    }

    static let healthcheck = DockerYAML.healthcheck(
        ["CMD", "redis-cli", "ping"], interval: .seconds(10), timeout: .seconds(3), retries: 5, startPeriod: .seconds(10)
    )
}

/// The official PostgreSQL image's settings: user and database named after the project.
enum PostgresContainer {
    static func environment(_ topology: Topology) -> [(String, String)] {
        [
            ("POSTGRES_USER", topology.project),
            ("POSTGRES_DB", topology.project),
            ("POSTGRES_PASSWORD_FILE", Addresses.docker.secretFile(InfrastructureSecrets.databasePassword)),
        ]
    }

    static func healthcheck(_ topology: Topology) -> YAMLValue {
        DockerYAML.healthcheck(
            ["CMD", "pg_isready", "-U", topology.project, "-d", topology.project],
            interval: .seconds(10), timeout: .seconds(5), retries: 5, startPeriod: .seconds(30)
        )
    }

    static let dataPath = "/var/lib/postgresql/data"
}
