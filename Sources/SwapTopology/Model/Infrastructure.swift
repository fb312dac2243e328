/// A database or cache the services use.
public struct Datastore: Sendable {
    public enum Engine: String, Sendable, CaseIterable {
        case postgres
        case redis
    }

    public enum Persistence: String, Sendable, CaseIterable {
        case aof
        case rdb
        case none
    }

    public var name: String
    public var nameLocation: SourceLocation
    public var engine: Engine
    public var version: String
    public var extensions: [String]
    public var backup: Backup?
    public var persistence: Persistence
    public var maxMemory: ByteSize?
    /// An external managed database (e.g. DigitalOcean) reached through a secret
    /// holding its URL, instead of a service in the stack.
    public var managed: Bool
    /// The secret holding the managed database's URL.
    public var urlSecret: Located<String>?
    public var resources: Resources

    public init(
        name: String, nameLocation: SourceLocation, engine: Engine, version: String, extensions: [String] = [],
        backup: Backup? = nil, persistence: Persistence = .none, maxMemory: ByteSize? = nil, managed: Bool = false,
        urlSecret: Located<String>? = nil, resources: Resources = Resources()
    ) {
        self.name = name
        self.nameLocation = nameLocation
        self.engine = engine
        self.version = version
        self.extensions = extensions
        self.backup = backup
        self.persistence = persistence
        self.maxMemory = maxMemory
        self.managed = managed
        self.urlSecret = urlSecret
        self.resources = resources
    }

    /// The port the engine listens on by convention.
    public var standardPort: Int { engine == .postgres ? 5432 : 6379 }
}

public struct Backup: Sendable {
    /// Cron expression, five fields.
    public var schedule: String
    public var retentionDays: Int

    public init(schedule: String, retentionDays: Int) {
        self.schedule = schedule
        self.retentionDays = retentionDays
    }
}

/// A Kafka cluster and its topics.
public struct Broker: Sendable {
    public var name: String
    public var nameLocation: SourceLocation
    public var nodes: Located<Int>
    /// `min.insync.replicas`; defaults to 1, or 2 when every topic has 3+ replicas.
    public var minInsync: Located<Int>?
    public var topics: [Topic]
    public var resources: Resources

    public init(
        name: String, nameLocation: SourceLocation, nodes: Located<Int>, minInsync: Located<Int>? = nil,
        topics: [Topic], resources: Resources = Resources()
    ) {
        self.name = name
        self.nameLocation = nameLocation
        self.nodes = nodes
        self.minInsync = minInsync
        self.topics = topics
        self.resources = resources
    }

    public var effectiveMinInsync: Int { minInsync?.value ?? 1 }
    /// Replication for the broker's internal topics (offsets, transactions).
    public var internalReplication: Int { min(3, nodes.value) }

    public func topic(named name: String) -> Topic? { topics.first { $0.name == name } }
}

public struct Topic: Sendable {
    public var name: String
    public var nameLocation: SourceLocation
    public var partitions: Int
    public var replication: Located<Int>
    public var retention: Duration?

    public init(name: String, nameLocation: SourceLocation, partitions: Int, replication: Located<Int>, retention: Duration? = nil) {
        self.name = name
        self.nameLocation = nameLocation
        self.partitions = partitions
        self.replication = replication
        self.retention = retention
    }
}

/// A secret the stack needs. Its value never appears in the topology or in generated files.
public struct Secret: Sendable {
    public var name: String
    public var nameLocation: SourceLocation
    /// How `swapctl secrets init` makes a random development value; nil means
    /// an operator must provide it (a managed database URL, say).
    public var generate: SecretFormat?
    public var description: String?

    public init(name: String, nameLocation: SourceLocation, generate: SecretFormat?, description: String? = nil) {
        self.name = name
        self.nameLocation = nameLocation
        self.generate = generate
        self.description = description
    }
}

/// `hex32`, `alnum24`, `base64_48`: an alphabet and a length in characters.
public struct SecretFormat: Sendable, Hashable, CustomStringConvertible {
    public enum Alphabet: String, Sendable, CaseIterable {
        case hex
        case alnum
        case base64
    }

    public var alphabet: Alphabet
    public var length: Int

    public init(alphabet: Alphabet, length: Int) {
        self.alphabet = alphabet
        self.length = length
    }

    public var description: String { "\(alphabet.rawValue)\(length)" }

    /// Parses `hex32`, `alnum24`, `base64_48` (an underscore is allowed).
    public init?(_ text: String) {
        for alphabet in Alphabet.allCases where text.hasPrefix(alphabet.rawValue) {
            var rest = text.dropFirst(alphabet.rawValue.count)
            if rest.first == "_" { rest = rest.dropFirst() }
            guard let length = Int(rest), (8...512).contains(length) else { return nil }
            self.init(alphabet: alphabet, length: length)
            return
        }
        return nil
    }
}

public struct Ingress: Sendable {
    public enum TLS: String, Sendable, CaseIterable {
        case none
        case selfSigned = "self-signed"
        case letsencrypt
    }

    public var domain: String?
    public var tls: TLS
    public var acmeEmail: String?
    public var rateLimit: RateLimit
    public var maxBody: ByteSize
    public var replicas: Int
    /// Where `tls` was set, for the letsencrypt diagnostics.
    public var tlsLocation: SourceLocation?

    public init(
        domain: String?, tls: TLS, acmeEmail: String?, rateLimit: RateLimit, maxBody: ByteSize, replicas: Int = 1,
        tlsLocation: SourceLocation? = nil
    ) {
        self.tlsLocation = tlsLocation
        self.domain = domain
        self.tls = tls
        self.acmeEmail = acmeEmail
        self.rateLimit = rateLimit
        self.maxBody = maxBody
        self.replicas = replicas
    }
}

public struct RateLimit: Sendable {
    /// Requests per second per client address.
    public var rps: Int
    public var burst: Int

    public init(rps: Int, burst: Int) {
        self.rps = rps
        self.burst = burst
    }
}

public struct Monitoring: Sendable {
    public var prometheus: Bool
    public var grafana: Bool
    public var alertmanager: Bool
    public var scrapeInterval: Duration
    public var alerts: AlertThresholds

    public init(
        prometheus: Bool = true, grafana: Bool = true, alertmanager: Bool = true,
        scrapeInterval: Duration = .seconds(15), alerts: AlertThresholds = AlertThresholds()
    ) {
        self.prometheus = prometheus
        self.grafana = grafana
        self.alertmanager = alertmanager
        self.scrapeInterval = scrapeInterval
        self.alerts = alerts
    }
}

public struct AlertThresholds: Sendable {
    /// Share of 5xx responses, 0..1.
    public var errorRate: Double
    public var p99Latency: Duration
    public var consumerLag: Int
    /// Free disk share below which the disk alert fires, 0..1.
    public var diskFree: Double

    public init(errorRate: Double = 0.05, p99Latency: Duration = .milliseconds(500), consumerLag: Int = 1000, diskFree: Double = 0.1) {
        self.errorRate = errorRate
        self.p99Latency = p99Latency
        self.consumerLag = consumerLag
        self.diskFree = diskFree
    }
}
