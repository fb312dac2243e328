import SwapTopology

/// Prometheus, its alert rules, Alertmanager and Grafana provisioning for one
/// environment, all derived from the topology: a new service gets a scrape
/// job, its alerts and a dashboard without further configuration.
public struct MonitoringRenderer: EnvironmentRenderer {
    public init() {}

    public var targets: Set<DeploymentTarget> { [.processes, .compose, .swarm] }

    public func render(_ topology: Topology) -> RenderOutput {
        let monitoring = topology.monitoring
        guard monitoring.prometheus else { return RenderOutput() }
        let folder = MonitoringNaming.folder(topology)
        var output = RenderOutput()
        func add(_ path: String, _ contents: String) {
            output.files.append(GeneratedFile(path: "\(folder)/\(path)", contents: contents))
        }
        func note(_ message: String) {
            output.notes.append(GenerationNote(environment: topology.environment, message: message))
        }

        add("prometheus.yml", PrometheusConfig.render(topology))
        add(PrometheusConfig.rulesFile, AlertRules.render(topology))
        if !AlertRules.hasDiskMetrics(topology) {
            note("monitoring.alerts.disk_free is not expressed on target \(topology.target.rawValue): "
                + "no node-exporter runs there, so alerts.yml has no disk alert")
        }
        if monitoring.alertmanager {
            add("alertmanager.yml", AlertmanagerConfig.render(topology))
            if !AlertmanagerConfig.deliversToSlack(topology) { note(AlertmanagerConfig.note) }
        }
        if monitoring.grafana {
            add("grafana/provisioning/datasources/prometheus.yml", GrafanaProvisioning.datasource(topology))
            add("grafana/provisioning/dashboards/\(topology.project).yml", GrafanaProvisioning.dashboards(topology))
            for service in topology.services {
                add("grafana/dashboards/\(service.name).json", GrafanaDashboard.render(service, in: topology))
            }
        }
        return output
    }
}
