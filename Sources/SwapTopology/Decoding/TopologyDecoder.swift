/// Decodes the merged YAML tree into a `Topology`, reporting every shape
/// problem (unknown keys, wrong types, bad durations and sizes) with its position.
struct TopologyDecoder {
    let read: NodeDecoder

    init(diagnostics: DiagnosticBag) {
        read = NodeDecoder(diagnostics: diagnostics)
    }

    static let topLevelKeys = [
        "version", "project", "registry", "target", "ingress", "services", "datastores", "brokers",
        "secrets", "monitoring", "cluster",
    ]

    func decode(_ root: YAMLNode, environment: String) -> Topology? {
        guard let top = read.mapping(root, "the topology", allowed: Self.topLevelKeys, required: ["version", "project", "services"]) else {
            return nil
        }
        let version = top["version"].flatMap { node -> Int? in
            guard let version = read.int(node, "version", in: 1...Int.max) else { return nil }
            if version != 1 { read.diagnostics.error("unsupported topology version \(version); this swapctl reads version 1", at: node.location) }
            return version
        } ?? 1
        let project = top["project"].flatMap { read.name($0, "project", pattern: .dnsLabel) } ?? "swap"
        return Topology(
            version: version,
            project: project,
            registry: top["registry"].flatMap { read.string($0, "registry") } ?? "ghcr.io/\(project)",
            environment: environment,
            target: top["target"].flatMap { read.choice($0, "target", of: DeploymentTarget.self) } ?? .compose,
            ingress: top["ingress"].flatMap(ingress) ?? Ingress(domain: "localhost", tls: .selfSigned, acmeEmail: nil, rateLimit: RateLimit(rps: 20, burst: 40), maxBody: ByteSize(bytes: 10 << 20)),
            allServices: top["services"].map(services) ?? [],
            datastores: top["datastores"].map(datastores) ?? [],
            brokers: top["brokers"].map(brokers) ?? [],
            secrets: top["secrets"].map(secrets) ?? [],
            monitoring: top["monitoring"].flatMap(monitoring) ?? Monitoring(),
            cluster: top["cluster"].flatMap(cluster) ?? Cluster()
        )
    }

    private func ingress(_ node: YAMLNode) -> Ingress? {
        guard let map = read.mapping(node, "ingress", allowed: ["domain", "tls", "acme_email", "rate_limit", "max_body", "replicas"]) else { return nil }
        var rateLimit = RateLimit(rps: 20, burst: 40)
        if let limitNode = map["rate_limit"], let limit = read.mapping(limitNode, "ingress.rate_limit", allowed: ["rps", "burst"]) {
            rateLimit.rps = limit["rps"].flatMap { read.int($0, "rate_limit.rps", in: 1...1_000_000) } ?? rateLimit.rps
            rateLimit.burst = limit["burst"].flatMap { read.int($0, "rate_limit.burst", in: 0...1_000_000) } ?? rateLimit.burst
        }
        return Ingress(
            domain: map["domain"].flatMap { read.string($0, "ingress.domain") },
            tls: map["tls"].flatMap { read.choice($0, "ingress.tls", of: Ingress.TLS.self) } ?? .selfSigned,
            acmeEmail: map["acme_email"].flatMap { read.string($0, "ingress.acme_email") },
            rateLimit: rateLimit,
            maxBody: map["max_body"].flatMap { read.size($0, "ingress.max_body") } ?? ByteSize(bytes: 10 << 20),
            replicas: map["replicas"].flatMap { read.int($0, "ingress.replicas", in: 1...64) } ?? 1,
            tlsLocation: map["tls"]?.location ?? map.location
        )
    }

    private func monitoring(_ node: YAMLNode) -> Monitoring? {
        let keys = ["prometheus", "grafana", "alertmanager", "scrape_interval", "alerts"]
        guard let map = read.mapping(node, "monitoring", allowed: keys) else { return nil }
        var monitoring = Monitoring()
        monitoring.prometheus = map["prometheus"].flatMap { read.bool($0, "monitoring.prometheus") } ?? true
        monitoring.grafana = map["grafana"].flatMap { read.bool($0, "monitoring.grafana") } ?? true
        monitoring.alertmanager = map["alertmanager"].flatMap { read.bool($0, "monitoring.alertmanager") } ?? true
        monitoring.scrapeInterval = map["scrape_interval"].flatMap { read.duration($0, "monitoring.scrape_interval") } ?? .seconds(15)
        if let alertsNode = map["alerts"],
           let alerts = read.mapping(alertsNode, "monitoring.alerts", allowed: ["error_rate", "p99_latency", "consumer_lag", "disk_free"]) {
            var thresholds = AlertThresholds()
            thresholds.errorRate = alerts["error_rate"].flatMap { read.double($0, "alerts.error_rate", in: 0...1) } ?? thresholds.errorRate
            thresholds.p99Latency = alerts["p99_latency"].flatMap { read.duration($0, "alerts.p99_latency") } ?? thresholds.p99Latency
            thresholds.consumerLag = alerts["consumer_lag"].flatMap { read.int($0, "alerts.consumer_lag", in: 1...Int(Int32.max)) } ?? thresholds.consumerLag
            thresholds.diskFree = alerts["disk_free"].flatMap { read.double($0, "alerts.disk_free", in: 0...1) } ?? thresholds.diskFree
            monitoring.alerts = thresholds
        }
        return monitoring
    }

    private func cluster(_ node: YAMLNode) -> Cluster? {
        guard let map = read.mapping(node, "cluster", allowed: ["managers", "workers", "data_node_label"]) else { return nil }
        var cluster = Cluster()
        cluster.managers = map["managers"].flatMap { read.int($0, "cluster.managers", in: 1...7) } ?? 1
        cluster.workers = map["workers"].flatMap { read.int($0, "cluster.workers", in: 0...100) } ?? 0
        cluster.dataNodeLabel = map["data_node_label"].flatMap { read.string($0, "cluster.data_node_label") } ?? cluster.dataNodeLabel
        return cluster
    }

    func resources(_ node: YAMLNode, _ owner: String) -> Resources {
        guard let map = read.mapping(node, "\(owner).resources", allowed: ["cpus", "memory"]) else { return Resources() }
        return Resources(
            cpus: map["cpus"].flatMap { read.double($0, "\(owner).resources.cpus", in: 0.01...256) },
            memory: map["memory"].flatMap { read.size($0, "\(owner).resources.memory") }
        )
    }
}
