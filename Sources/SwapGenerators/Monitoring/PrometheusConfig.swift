import SwapTopology

/// `<env>/monitoring/prometheus.yml`: one scrape job per enabled service, on
/// every replica, plus Prometheus itself, Alertmanager when enabled, and the
/// node-exporter and cAdvisor that Swarm runs globally.
enum PrometheusConfig {
    static let rulesFile = "alerts.yml"

    static func render(_ topology: Topology) -> String {
        var text = GeneratedHeader.hash(topology.environment)
        text += "#\n" + explanation(topology).map { "# \($0)\n" }.joined()
        return text + document(topology).render()
    }

    private static func explanation(_ topology: Topology) -> [String] {
        switch topology.target {
        case .swarm:
            return [
                "Every replica is scraped: Docker DNS answers tasks.<service> with one",
                "address per task. Prometheus must share an overlay network with the services.",
            ]
        case .compose:
            return [
                "Scaled services are found through Docker DNS (one A record per replica);",
                "single ones are static targets.",
            ]
        case .processes:
            return [
                "Native processes on 127.0.0.1: replica i of a service listens on its",
                "topology port + i.",
            ]
        }
    }

    static func document(_ topology: Topology) -> YAMLValue {
        let monitoring = topology.monitoring
        let interval = monitoring.scrapeInterval
        let timeout = min(interval, .seconds(10))
        var scrapes: [YAMLValue] = [
            job(MonitoringNaming.prometheus.name, static: ["localhost:\(MonitoringNaming.prometheus.port)"]),
        ]
        if monitoring.alertmanager {
            scrapes.append(job(MonitoringNaming.alertmanager.name, static: [MonitoringNaming.address(MonitoringNaming.alertmanager, in: topology)]))
        }
        for service in topology.services {
            scrapes.append(serviceJob(service, in: topology))
        }
        if topology.target == .swarm {
            for component in [MonitoringNaming.nodeExporter, MonitoringNaming.cadvisor] {
                scrapes.append(job(component.name, dns: "tasks.\(component.name)", port: component.port))
            }
        }
        var alerting: YAMLValue?
        if monitoring.alertmanager {
            alerting = .map([
                ("alertmanagers", .list([
                    .map([
                        ("api_version", .string("v2")),
                        ("static_configs", .list([.map([("targets", .strings([MonitoringNaming.address(MonitoringNaming.alertmanager, in: topology)]))])])),
                    ]),
                ])),
            ])
        }
        return .map([
            ("global", .map([
                ("scrape_interval", .string(interval.text)),
                ("scrape_timeout", .string(timeout.text)),
                ("evaluation_interval", .string(interval.text)),
                ("external_labels", .map([
                    ("project", .string(topology.project)),
                    ("environment", .string(topology.environment)),
                ])),
            ])),
            ("rule_files", .strings([rulesFile])),
            ("alerting", alerting),
            ("scrape_configs", .list(scrapes)),
        ])
    }

    /// A service's job, named after the service: dashboards and alerts select `job="<service>"`.
    private static func serviceJob(_ service: Service, in topology: Topology) -> YAMLValue {
        let port = service.port.value
        let replicas = max(1, service.replicas.value)
        switch topology.target {
        case .swarm:
            return job(service.name, dns: "tasks.\(service.name)", port: port)
        case .compose where replicas > 1:
            return job(service.name, dns: service.name, port: port)
        case .compose:
            return job(service.name, static: ["\(service.name):\(port)"])
        case .processes:
            return job(service.name, static: (0..<replicas).map { "127.0.0.1:\(port + $0)" })
        }
    }

    private static func job(_ name: String, static targets: [String]) -> YAMLValue {
        .map([
            ("job_name", .string(name)),
            ("metrics_path", .string("/metrics")),
            ("static_configs", .list([.map([("targets", .strings(targets))])])),
        ])
    }

    private static func job(_ name: String, dns: String, port: Int) -> YAMLValue {
        .map([
            ("job_name", .string(name)),
            ("metrics_path", .string("/metrics")),
            ("dns_sd_configs", .list([
                .map([
                    ("names", .strings([dns])),
                    ("type", .string("A")),
                    ("port", .int(port)),
                    ("refresh_interval", .string("30s")),
                ]),
            ])),
        ])
    }
}
