extension Validator {
    /// Every name a service mentions must be declared somewhere.
    static func references(_ topology: Topology, _ diagnostics: DiagnosticBag) {
        let serviceNames = topology.allServices.map(\.name)
        let storeNames = topology.datastores.map(\.name) + topology.brokers.map(\.name)
        let topicNames = topology.topics.map(\.topic.name)
        let secretNames = topology.secrets.map(\.name)
        let knownTopics = Set(topicNames)
        func check(_ names: [Located<String>], against known: [String], kind: String) {
            let lookup = Set(known)
            for name in names where !lookup.contains(name.value) {
                diagnostics.error("unknown \(kind) '\(name.value)'\(Suggestion.hint(for: name.value, in: known))", at: name.location)
            }
        }
        for service in topology.allServices {
            check(service.dependsOn, against: serviceNames, kind: "service")
            check(service.uses, against: storeNames, kind: "datastore or broker")
            check(service.consumes + service.produces, against: topicNames, kind: "topic")
            check(service.secrets, against: secretNames, kind: "secret")
            if service.dependsOn.contains(where: { $0.value == service.name }) {
                let location = service.dependsOn.first { $0.value == service.name }!.location
                diagnostics.error("service '\(service.name)' depends on itself", at: location)
            }
            // A topic is reached through a broker the service declares in `uses`.
            let brokers = service.uses.compactMap { topology.broker(named: $0.value) }
            for topic in service.consumes + service.produces where knownTopics.contains(topic.value) {
                if !brokers.contains(where: { $0.topic(named: topic.value) != nil }) {
                    diagnostics.error(
                        "service '\(service.name)' uses topic '\(topic.value)' but not the broker that holds it (add it to uses)",
                        at: topic.location
                    )
                }
            }
        }
        for store in topology.datastores {
            if let secret = store.urlSecret { check([secret], against: secretNames, kind: "secret") }
        }
    }

    static func datastores(_ topology: Topology, _ diagnostics: DiagnosticBag) {
        for store in topology.datastores {
            if store.managed && store.urlSecret == nil {
                diagnostics.error("managed datastore '\(store.name)' needs url_secret, the secret holding its connection URL", at: store.nameLocation)
            }
            if store.engine == .redis && !store.extensions.isEmpty {
                diagnostics.error("datastore '\(store.name)' is redis, which has no extensions", at: store.nameLocation)
            }
            if store.engine == .postgres && store.persistence != .none {
                diagnostics.error("persistence applies to redis; datastore '\(store.name)' is postgres", at: store.nameLocation)
            }
            if store.engine == .redis && store.backup != nil {
                diagnostics.error("backup applies to postgres; datastore '\(store.name)' is redis (use persistence)", at: store.nameLocation)
            }
        }
    }

    /// Warnings: things declared for nobody, topics consumed that nothing produces.
    static func usage(_ topology: Topology, _ diagnostics: DiagnosticBag) {
        let services = topology.services
        let usedSecrets = Set(services.flatMap(\.secrets).map(\.value) + topology.datastores.compactMap(\.urlSecret?.value))
        for secret in topology.secrets where !usedSecrets.contains(secret.name) && !isInfrastructureSecret(secret.name, topology) {
            diagnostics.warning("secret '\(secret.name)' is declared but no service uses it", at: secret.nameLocation)
        }
        let produced = Set(services.flatMap(\.produces).map(\.value))
        for service in services {
            for topic in service.consumes where !produced.contains(topic.value) {
                diagnostics.warning("service '\(service.name)' consumes topic '\(topic.value)' that no enabled service produces", at: topic.location)
            }
        }
    }

    /// Secrets the generated infrastructure itself consumes (the database password, Grafana's admin password).
    static func isInfrastructureSecret(_ name: String, _ topology: Topology) -> Bool {
        InfrastructureSecrets.names(for: topology).contains(name)
    }
}

/// The secrets that infrastructure containers read, by convention of name.
public enum InfrastructureSecrets {
    public static let databasePassword = "db_password"
    public static let grafanaPassword = "grafana_admin_password"
    public static let backupAccessKey = "backup_s3_access_key"
    public static let backupSecretKey = "backup_s3_secret_key"
    /// A Slack incoming-webhook URL: Alertmanager posts every alert there.
    public static let alertWebhook = "alertmanager_slack_webhook"

    /// Every name by convention; an environment that turns the consumer off
    /// (no Grafana locally, say) still shares the base's declaration.
    public static func names(for topology: Topology) -> Set<String> {
        [databasePassword, grafanaPassword, backupAccessKey, backupSecretKey, alertWebhook]
    }
}
