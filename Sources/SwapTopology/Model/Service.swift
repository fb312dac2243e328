/// One application service: a SwiftPM executable product behind a port.
public struct Service: Sendable {
    public var name: String
    public var nameLocation: SourceLocation
    /// The SwiftPM executable product that runs it.
    public var product: String
    public var port: Located<Int>
    public var replicas: Located<Int>
    public var enabled: Bool
    public var health: HealthCheck
    public var routes: [Route]
    /// Path prefixes under /api/ that the gateway forwards to this service.
    public var api: [Located<String>]
    public var dependsOn: [Located<String>]
    /// Datastores and brokers it talks to.
    public var uses: [Located<String>]
    public var consumes: [Located<String>]
    public var produces: [Located<String>]
    public var secrets: [Located<String>]
    /// Plain environment variables, in file order.
    public var env: [EnvironmentVariable]
    /// Typed service settings (`fraud.hold_above: 1000000`), flattened to dotted keys.
    public var settings: [Setting]
    public var resources: Resources

    public init(
        name: String, nameLocation: SourceLocation, product: String, port: Located<Int>, replicas: Located<Int>,
        enabled: Bool = true, health: HealthCheck = HealthCheck(), routes: [Route] = [], api: [Located<String>] = [], dependsOn: [Located<String>] = [],
        uses: [Located<String>] = [], consumes: [Located<String>] = [], produces: [Located<String>] = [],
        secrets: [Located<String>] = [], env: [EnvironmentVariable] = [], settings: [Setting] = [],
        resources: Resources = Resources()
    ) {
        self.name = name
        self.nameLocation = nameLocation
        self.product = product
        self.port = port
        self.replicas = replicas
        self.enabled = enabled
        self.health = health
        self.routes = routes
        self.api = api
        self.dependsOn = dependsOn
        self.uses = uses
        self.consumes = consumes
        self.produces = produces
        self.secrets = secrets
        self.env = env
        self.settings = settings
        self.resources = resources
    }

    /// True when one of its routes carries WebSockets.
    public var servesWebSockets: Bool { routes.contains(where: \.websocket) }
}

public struct HealthCheck: Sendable {
    public var path: String
    public var interval: Duration
    public var timeout: Duration
    public var retries: Int
    public var startPeriod: Duration

    public init(
        path: String = "/health", interval: Duration = .seconds(10), timeout: Duration = .seconds(3),
        retries: Int = 3, startPeriod: Duration = .seconds(10)
    ) {
        self.path = path
        self.interval = interval
        self.timeout = timeout
        self.retries = retries
        self.startPeriod = startPeriod
    }
}

/// A path prefix the ingress sends to the service.
public struct Route: Sendable {
    public var path: Located<String>
    public var websocket: Bool
    /// Keep a client on one replica (by a consistent hash of its key, never by IP).
    public var sticky: Bool

    public init(path: Located<String>, websocket: Bool = false, sticky: Bool = false) {
        self.path = path
        self.websocket = websocket
        self.sticky = sticky
    }
}

public struct EnvironmentVariable: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A service setting such as `fraud.hold_above`; services read it as the
/// environment variable `FRAUD_HOLD_ABOVE`.
public struct Setting: Sendable, Hashable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    public var environmentName: String {
        key.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }
}

public struct Resources: Sendable {
    public var cpus: Double?
    public var memory: ByteSize?

    public init(cpus: Double? = nil, memory: ByteSize? = nil) {
        self.cpus = cpus
        self.memory = memory
    }
}
