extension TopologyDecoder {
    static let serviceKeys = [
        "product", "port", "replicas", "enabled", "health", "routes", "api", "depends_on", "uses", "consumes",
        "produces", "secrets", "env", "settings", "resources",
    ]

    func services(_ node: YAMLNode) -> [Service] {
        read.namedEntries(node, "services").compactMap(service)
    }

    private func service(_ entry: YAMLEntry) -> Service? {
        let what = "service '\(entry.key)'"
        guard let name = read.name(YAMLNode(.scalar(entry.key, plain: true), at: entry.keyLocation), "service name", pattern: .dnsLabel),
              let map = read.mapping(entry.value, what, allowed: Self.serviceKeys, required: ["product", "port"])
        else { return nil }
        let fallback = Located(0, at: map.location)
        return Service(
            name: name,
            nameLocation: entry.keyLocation,
            product: map["product"].flatMap { read.string($0, "\(what) product") } ?? name,
            port: map["port"].flatMap { node in read.int(node, "port", in: 1...65535).map { Located($0, at: node.location) } } ?? fallback,
            replicas: map["replicas"].flatMap { node in read.int(node, "replicas", in: 0...100).map { Located($0, at: node.location) } }
                ?? Located(1, at: map.location),
            enabled: map["enabled"].flatMap { read.bool($0, "\(what) enabled") } ?? true,
            health: map["health"].flatMap { health($0, what) } ?? HealthCheck(),
            routes: map["routes"].map { routes($0, what) } ?? [],
            api: map["api"].map { apiPrefixes($0, what) } ?? [],
            dependsOn: map["depends_on"].map { read.names($0, "\(what) depends_on") } ?? [],
            uses: map["uses"].map { read.names($0, "\(what) uses") } ?? [],
            consumes: map["consumes"].map { read.names($0, "\(what) consumes") } ?? [],
            produces: map["produces"].map { read.names($0, "\(what) produces") } ?? [],
            secrets: map["secrets"].map { read.names($0, "\(what) secrets") } ?? [],
            env: map["env"].map { environment($0, what) } ?? [],
            settings: map["settings"].map { settings($0, prefix: "", what: what) } ?? [],
            resources: map["resources"].map { resources($0, what) } ?? Resources()
        )
    }

    private func health(_ node: YAMLNode, _ owner: String) -> HealthCheck? {
        let what = "\(owner) health"
        guard let map = read.mapping(node, what, allowed: ["path", "interval", "timeout", "retries", "start_period"]) else { return nil }
        var health = HealthCheck()
        if let pathNode = map["path"], let path = read.string(pathNode, "\(what) path") {
            if path.hasPrefix("/") { health.path = path } else {
                read.diagnostics.error("\(what) path '\(path)' must start with '/'", at: pathNode.location)
            }
        }
        health.interval = map["interval"].flatMap { read.duration($0, "\(what) interval") } ?? health.interval
        health.timeout = map["timeout"].flatMap { read.duration($0, "\(what) timeout") } ?? health.timeout
        health.retries = map["retries"].flatMap { read.int($0, "\(what) retries", in: 1...100) } ?? health.retries
        health.startPeriod = map["start_period"].flatMap { read.duration($0, "\(what) start_period") } ?? health.startPeriod
        return health
    }

    private func routes(_ node: YAMLNode, _ owner: String) -> [Route] {
        guard let items = node.items else {
            read.diagnostics.error("\(owner) routes must be a list, found \(node.kindName)", at: node.location)
            return []
        }
        return items.compactMap { item in
            guard let map = read.mapping(item, "a route of \(owner)", allowed: ["path", "websocket", "sticky"], required: ["path"]),
                  let pathNode = map["path"], let path = read.string(pathNode, "route path")
            else { return nil }
            guard path.hasPrefix("/"), !path.contains(where: { $0 == " " || $0 == ";" || $0 == "{" || $0 == "}" }) else {
                read.diagnostics.error("route path '\(path)' must start with '/' and contain no spaces, ';' or braces", at: pathNode.location)
                return nil
            }
            return Route(
                path: Located(path, at: pathNode.location),
                websocket: map["websocket"].flatMap { read.bool($0, "route websocket") } ?? false,
                sticky: map["sticky"].flatMap { read.bool($0, "route sticky") } ?? false
            )
        }
    }

    private func apiPrefixes(_ node: YAMLNode, _ owner: String) -> [Located<String>] {
        read.names(node, "\(owner) api").filter { prefix in
            let valid = prefix.value.hasPrefix("/api/") && prefix.value.count > 5
                && !prefix.value.contains(where: { $0 == " " || $0 == "," || $0 == "=" })
            if !valid {
                read.diagnostics.error("api prefix '\(prefix.value)' must start with /api/ and name a path (e.g. /api/v1/wallet)", at: prefix.location)
            }
            return valid
        }
    }

    private func environment(_ node: YAMLNode, _ owner: String) -> [EnvironmentVariable] {
        read.namedEntries(node, "\(owner) env").compactMap { entry in
            let keyNode = YAMLNode(.scalar(entry.key, plain: true), at: entry.keyLocation)
            guard let name = read.name(keyNode, "environment variable", pattern: .environmentVariable),
                  let value = scalarText(entry.value, "\(owner) env \(entry.key)")
            else { return nil }
            return EnvironmentVariable(name: name, value: value)
        }
    }

    /// Nested settings flattened to dotted keys: `fraud: {hold_above: 1}` is `fraud.hold_above`.
    private func settings(_ node: YAMLNode, prefix: String, what: String) -> [Setting] {
        read.namedEntries(node, "\(what) settings").flatMap { entry -> [Setting] in
            let key = prefix.isEmpty ? entry.key : "\(prefix).\(entry.key)"
            if entry.value.entries != nil { return settings(entry.value, prefix: key, what: what) }
            guard let value = scalarText(entry.value, "setting '\(key)'") else { return [] }
            return [Setting(key: key, value: value)]
        }
    }

    private func scalarText(_ node: YAMLNode, _ what: String) -> String? {
        guard let text = node.scalar else {
            read.diagnostics.error("\(what) must be a scalar, found \(node.kindName)", at: node.location)
            return nil
        }
        return text
    }
}
