extension TopologyDecoder {
    func datastores(_ node: YAMLNode) -> [Datastore] {
        read.namedEntries(node, "datastores").compactMap { entry in
            let what = "datastore '\(entry.key)'"
            let keys = ["engine", "version", "extensions", "backup", "persistence", "maxmemory", "managed", "url_secret", "resources"]
            guard let name = read.name(YAMLNode(.scalar(entry.key, plain: true), at: entry.keyLocation), "datastore name", pattern: .dnsLabel),
                  let map = read.mapping(entry.value, what, allowed: keys, required: ["engine"]),
                  let engine = map["engine"].flatMap({ read.choice($0, "\(what) engine", of: Datastore.Engine.self) })
            else { return nil }
            return Datastore(
                name: name,
                nameLocation: entry.keyLocation,
                engine: engine,
                version: map["version"].flatMap { read.string($0, "\(what) version") } ?? (engine == .postgres ? "15" : "7"),
                extensions: map["extensions"].map { read.names($0, "\(what) extensions").map(\.value) } ?? [],
                backup: map["backup"].flatMap { backup($0, what) },
                persistence: map["persistence"].flatMap { read.choice($0, "\(what) persistence", of: Datastore.Persistence.self) } ?? .none,
                maxMemory: map["maxmemory"].flatMap { read.size($0, "\(what) maxmemory") },
                managed: map["managed"].flatMap { read.bool($0, "\(what) managed") } ?? false,
                urlSecret: map["url_secret"].flatMap { node in read.string(node, "\(what) url_secret").map { Located($0, at: node.location) } },
                resources: map["resources"].map { resources($0, what) } ?? Resources()
            )
        }
    }

    private func backup(_ node: YAMLNode, _ owner: String) -> Backup? {
        guard let map = read.mapping(node, "\(owner) backup", allowed: ["schedule", "retention_days"], required: ["schedule"]),
              let scheduleNode = map["schedule"], let schedule = read.string(scheduleNode, "backup schedule")
        else { return nil }
        if schedule.split(separator: " ").count != 5 {
            read.diagnostics.error("backup schedule '\(schedule)' must be a cron expression with 5 fields", at: scheduleNode.location)
        }
        return Backup(schedule: schedule, retentionDays: map["retention_days"].flatMap { read.int($0, "backup retention_days", in: 1...3650) } ?? 14)
    }

    func brokers(_ node: YAMLNode) -> [Broker] {
        read.namedEntries(node, "brokers").compactMap { entry in
            let what = "broker '\(entry.key)'"
            guard let name = read.name(YAMLNode(.scalar(entry.key, plain: true), at: entry.keyLocation), "broker name", pattern: .dnsLabel),
                  let map = read.mapping(entry.value, what, allowed: ["engine", "nodes", "min_insync", "topics", "resources"], required: ["engine"])
            else { return nil }
            if let engineNode = map["engine"], let engine = read.string(engineNode, "\(what) engine"), engine != "kafka" {
                read.diagnostics.error("\(what) engine '\(engine)' must be kafka", at: engineNode.location)
            }
            return Broker(
                name: name,
                nameLocation: entry.keyLocation,
                nodes: map["nodes"].flatMap { node in read.int(node, "\(what) nodes", in: 1...15).map { Located($0, at: node.location) } }
                    ?? Located(1, at: map.location),
                minInsync: map["min_insync"].flatMap { node in read.int(node, "\(what) min_insync", in: 1...15).map { Located($0, at: node.location) } },
                topics: map["topics"].map { topics($0, what) } ?? [],
                resources: map["resources"].map { resources($0, what) } ?? Resources()
            )
        }
    }

    private func topics(_ node: YAMLNode, _ owner: String) -> [Topic] {
        read.namedEntries(node, "\(owner) topics").compactMap { entry in
            let what = "topic '\(entry.key)'"
            guard let name = read.name(YAMLNode(.scalar(entry.key, plain: true), at: entry.keyLocation), "topic name", pattern: .topic),
                  let map = read.mapping(entry.value, what, allowed: ["partitions", "replication", "retention"])
            else { return nil }
            return Topic(
                name: name,
                nameLocation: entry.keyLocation,
                partitions: map["partitions"].flatMap { read.int($0, "\(what) partitions", in: 1...10_000) } ?? 1,
                replication: map["replication"].flatMap { node in read.int(node, "\(what) replication", in: 1...15).map { Located($0, at: node.location) } }
                    ?? Located(1, at: entry.keyLocation),
                retention: map["retention"].flatMap { read.duration($0, "\(what) retention") }
            )
        }
    }

    func secrets(_ node: YAMLNode) -> [Secret] {
        read.namedEntries(node, "secrets").compactMap { entry in
            let what = "secret '\(entry.key)'"
            guard let name = read.name(YAMLNode(.scalar(entry.key, plain: true), at: entry.keyLocation), "secret name", pattern: .secret),
                  let map = read.mapping(entry.value, what, allowed: ["generate", "description"])
            else { return nil }
            var format: SecretFormat?
            if let generateNode = map["generate"], let text = read.string(generateNode, "\(what) generate") {
                format = SecretFormat(text)
                if format == nil {
                    read.diagnostics.error("\(what) generate '\(text)' must be hex, alnum or base64 followed by a length 8...512 (e.g. hex32)", at: generateNode.location)
                }
            }
            return Secret(
                name: name, nameLocation: entry.keyLocation, generate: format,
                description: map["description"].flatMap { read.string($0, "\(what) description") }
            )
        }
    }
}
