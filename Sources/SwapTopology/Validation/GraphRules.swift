extension Validator {
    /// Depending on a disabled service cannot start.
    static func dependencies(_ topology: Topology, _ diagnostics: DiagnosticBag) {
        for service in topology.services {
            for dependency in service.dependsOn {
                if let target = topology.service(named: dependency.value), !target.enabled {
                    diagnostics.error(
                        "service '\(service.name)' depends on '\(target.name)', which is disabled",
                        at: dependency.location, related: target.nameLocation
                    )
                }
            }
        }
    }

    /// Reports each dependency cycle once, printed `a -> b -> a`.
    static func cycles(_ topology: Topology, _ diagnostics: DiagnosticBag) {
        var state: [String: Bool] = [:]  // false: on the current path, true: done
        var path: [(name: String, via: SourceLocation?)] = []
        func visit(_ service: Service, via: SourceLocation?) {
            if state[service.name] == true { return }
            if state[service.name] == false {
                guard let start = path.firstIndex(where: { $0.name == service.name }) else { return }
                let names = path[start...].map(\.name) + [service.name]
                diagnostics.error("dependency cycle: \(names.joined(separator: " -> "))", at: via ?? service.nameLocation)
                return
            }
            state[service.name] = false
            path.append((service.name, via))
            for dependency in service.dependsOn where dependency.value != service.name {
                if let next = topology.service(named: dependency.value) { visit(next, via: dependency.location) }
            }
            path.removeLast()
            state[service.name] = true
        }
        for service in topology.allServices { visit(service, via: nil) }
    }

    static func brokers(_ topology: Topology, _ diagnostics: DiagnosticBag) {
        for broker in topology.brokers {
            let nodes = broker.nodes.value
            if let minInsync = broker.minInsync, minInsync.value > nodes {
                diagnostics.error("broker '\(broker.name)' has min_insync \(minInsync.value) but only \(nodes) node\(nodes == 1 ? "" : "s")", at: minInsync.location)
            }
            for topic in broker.topics {
                let replication = topic.replication.value
                if replication > nodes {
                    diagnostics.error(
                        "topic '\(topic.name)' has replication \(replication) but broker '\(broker.name)' has \(nodes) node\(nodes == 1 ? "" : "s")",
                        at: topic.replication.location
                    )
                }
                if let minInsync = broker.minInsync, minInsync.value > replication {
                    diagnostics.error(
                        "broker '\(broker.name)' has min_insync \(minInsync.value), above the replication \(replication) of topic '\(topic.name)'; producers with acks=all would always fail",
                        at: minInsync.location, related: topic.replication.location
                    )
                }
            }
        }
    }
}
