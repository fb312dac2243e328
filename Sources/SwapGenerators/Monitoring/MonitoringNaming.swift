import SwapTopology

/// Names, ports and in-container paths of the monitoring components, shared
/// with the compose and Swarm renderers that run them: Prometheus scrapes and
/// Grafana provisions exactly these.
public enum MonitoringNaming {
    public struct Component: Sendable {
        /// The compose/Swarm service name (Docker DNS name).
        public var name: String
        public var port: Int
    }

    public static let prometheus = Component(name: "prometheus", port: 9090)
    public static let alertmanager = Component(name: "alertmanager", port: 9093)
    public static let grafana = Component(name: "grafana", port: 3000)
    /// Swarm only, `mode: global`.
    public static let nodeExporter = Component(name: "node-exporter", port: 9100)
    /// Swarm only, `mode: global`.
    public static let cadvisor = Component(name: "cadvisor", port: 8080)

    /// Where the containers expect the generated files (`<env>/monitoring/...`).
    public enum ContainerPath {
        public static let prometheusConfig = "/etc/prometheus/prometheus.yml"
        /// Beside prometheus.yml: `rule_files` names it relatively.
        public static let alertRules = "/etc/prometheus/alerts.yml"
        public static let alertmanagerConfig = "/etc/alertmanager/alertmanager.yml"
        /// `monitoring/grafana/provisioning` is mounted here.
        public static let grafanaProvisioning = "/etc/grafana/provisioning"
        /// `monitoring/grafana/dashboards` is mounted here.
        public static let grafanaDashboards = "/var/lib/grafana/dashboards"
    }

    /// The fixed uid of the provisioned Prometheus datasource.
    public static let datasourceUID = "prometheus"

    /// Paths of the generated files, relative to generated/.
    public static func folder(_ topology: Topology) -> String { "\(topology.environment)/monitoring" }

    /// `host:port` of a monitoring component as its peers reach it.
    static func address(_ component: Component, in topology: Topology) -> String {
        topology.target == .processes ? "127.0.0.1:\(component.port)" : "\(component.name):\(component.port)"
    }
}
