extension Validator {
    static func uniquePorts(_ topology: Topology, _ diagnostics: DiagnosticBag) {
        var owners: [Int: Service] = [:]
        for service in topology.allServices where service.port.value > 0 {
            if let first = owners[service.port.value] {
                diagnostics.error(
                    "port \(service.port.value) is already used by service '\(first.name)'",
                    at: service.port.location, related: first.port.location
                )
            } else {
                owners[service.port.value] = service
            }
        }
    }

    static func uniqueRoutes(_ topology: Topology, _ diagnostics: DiagnosticBag) {
        var owners: [String: (service: String, location: SourceLocation)] = [:]
        for service in topology.services {
            for route in service.routes {
                if let first = owners[route.path.value] {
                    diagnostics.error(
                        "route '\(route.path.value)' is already routed to service '\(first.service)'",
                        at: route.path.location, related: first.location
                    )
                } else {
                    owners[route.path.value] = (service.name, route.path.location)
                }
            }
        }
    }

    /// Each /api/ prefix has one owner, and the gateway reaches it through depends_on.
    static func uniqueAPIPrefixes(_ topology: Topology, _ diagnostics: DiagnosticBag) {
        var owners: [String: (service: String, location: SourceLocation)] = [:]
        let dependedOn = Set(topology.services.flatMap { $0.dependsOn.map(\.value) })
        for service in topology.services {
            for prefix in service.api {
                if let first = owners[prefix.value] {
                    diagnostics.error("api prefix '\(prefix.value)' is already owned by service '\(first.service)'", at: prefix.location, related: first.location)
                } else {
                    owners[prefix.value] = (service.name, prefix.location)
                }
            }
            if !service.api.isEmpty, !dependedOn.contains(service.name) {
                diagnostics.error(
                    "service '\(service.name)' declares api prefixes but no service depends on it to forward them (add it to the gateway's depends_on)",
                    at: service.api[0].location
                )
            }
        }
    }

    /// A WebSocket service with several replicas needs events fanned out through
    /// Redis and a sticky route, or a client misses what another replica handled.
    static func websockets(_ topology: Topology, _ diagnostics: DiagnosticBag) {
        for service in topology.services where service.replicas.value > 1 {
            let usesRedis = service.uses.contains { topology.datastore(named: $0.value)?.engine == .redis }
            for route in service.routes where route.websocket {
                if !route.sticky {
                    diagnostics.error(
                        "websocket route '\(route.path.value)' of service '\(service.name)' has \(service.replicas.value) replicas but is not sticky",
                        at: route.path.location
                    )
                }
                if !usesRedis {
                    diagnostics.error(
                        "service '\(service.name)' serves websockets on \(service.replicas.value) replicas but uses no Redis datastore to fan events out between them",
                        at: route.path.location
                    )
                }
            }
        }
    }

    static func ingress(_ topology: Topology, _ diagnostics: DiagnosticBag) {
        guard topology.ingress.tls == .letsencrypt else { return }
        let location = topology.ingress.tlsLocation ?? SourceLocation(file: "topology.yaml", line: 1, column: 1)
        let domain = topology.ingress.domain ?? ""
        if domain.isEmpty || domain == "localhost" || !domain.contains(".") {
            diagnostics.error("ingress tls 'letsencrypt' needs a public domain, found '\(domain)'", at: location)
        }
        if (topology.ingress.acmeEmail ?? "").contains("@") == false {
            diagnostics.error("ingress tls 'letsencrypt' needs acme_email", at: location)
        }
    }
}
