import SwapTopology

/// `<env>/monitoring/alerts.yml`: Prometheus alerting rules whose thresholds
/// come from `monitoring.alerts` and whose per-service rules come from the
/// enabled services. Every alert links to docs/runbooks/alerts.md#<alert>.
enum AlertRules {
    static let runbook = "docs/runbooks/alerts.md"

    struct Rule {
        var alert: String
        var expr: String
        var duration: String
        var severity: String
        var labels: [(String, String)] = []
        var summary: String
        var description: String
    }

    /// Whether the topology's disk alert can be expressed (node-exporter runs only on Swarm).
    static func hasDiskMetrics(_ topology: Topology) -> Bool { topology.target == .swarm }

    static func render(_ topology: Topology) -> String {
        GeneratedHeader.hash(topology.environment) + document(topology).render()
    }

    static func document(_ topology: Topology) -> YAMLValue {
        let prefix = topology.project
        var groups: [(String, [Rule])] = [
            ("\(prefix)-availability", availability(topology)),
            ("\(prefix)-http", http(topology)),
        ]
        var kafka: [Rule] = []
        if topology.services.contains(where: { !$0.produces.isEmpty }) { kafka.append(outboxBacklog) }
        if topology.services.contains(where: { !$0.consumes.isEmpty }) { kafka.append(consumerLag(topology)) }
        if !kafka.isEmpty { groups.append(("\(prefix)-kafka", kafka)) }
        if hasDiskMetrics(topology) {
            groups.append(("\(prefix)-host", [diskFree(topology)]))
        }
        return .map([
            ("groups", .list(groups.map { name, rules in
                .map([("name", .string(name)), ("rules", .list(rules.map(yaml)))])
            })),
        ])
    }

    private static func yaml(_ rule: Rule) -> YAMLValue {
        .map([
            ("alert", .string(rule.alert)),
            ("expr", .block(rule.expr + "\n")),
            ("for", .string(rule.duration)),
            ("labels", .map([("severity", .string(rule.severity))] + rule.labels.map { ($0.0, .string($0.1)) })),
            ("annotations", .map([
                ("summary", .string(rule.summary)),
                ("description", .string(rule.description)),
                ("runbook_url", .string("\(runbook)#\(rule.alert.lowercased())")),
            ])),
        ])
    }

    private static func availability(_ topology: Topology) -> [Rule] {
        var rules = [
            Rule(
                alert: "InstanceDown", expr: "up == 0", duration: "2m", severity: "critical",
                summary: "{{ $labels.job }} instance {{ $labels.instance }} is down",
                description: "Prometheus could not scrape {{ $labels.instance }} of job {{ $labels.job }} for 2 minutes."
            ),
        ]
        for service in topology.services {
            let up = "up{job=\"\(service.name)\"}"
            rules.append(Rule(
                alert: "ServiceDown", expr: "(sum(\(up)) or vector(0)) == 0", duration: "2m", severity: "critical",
                labels: [("job", service.name)],
                summary: "\(service.name) has no instance up",
                description: "No instance of \(service.name) has answered /metrics for 2 minutes."
            ))
            let replicas = service.replicas.value
            if replicas > 1 {
                rules.append(Rule(
                    alert: "ServiceReplicasMissing", expr: "(sum(\(up)) or vector(0)) < \(replicas)", duration: "5m",
                    severity: "warning", labels: [("job", service.name)],
                    summary: "\(service.name) runs fewer than \(replicas) replicas",
                    description: "Only {{ $value }} of \(replicas) instances of \(service.name) are up."
                ))
            }
        }
        if topology.monitoring.alertmanager {
            rules.append(Rule(
                alert: "AlertmanagerMissing", expr: "prometheus_notifications_alertmanagers_discovered < 1", duration: "5m",
                severity: "warning",
                summary: "Prometheus has no Alertmanager",
                description: "Alerts are evaluated but cannot be delivered: no Alertmanager is discovered."
            ))
        }
        return rules
    }

    private static func http(_ topology: Topology) -> [Rule] {
        let thresholds = topology.monitoring.alerts
        let requests = MetricNames.httpRequests
        let status = MetricNames.Label.status
        let errorRate = """
        sum by (job) (rate(\(requests){\(status)=~"5.."}[5m]))
          / sum by (job) (rate(\(requests)[5m]))
          > \(number(thresholds.errorRate))
        """
        let latency = """
        histogram_quantile(0.99, sum by (job, le) (rate(\(MetricNames.httpRequestDurationBucket)[5m])))
          > \(number(Double(thresholds.p99Latency.totalMilliseconds) / 1000))
        """
        return [
            Rule(
                alert: "HighErrorRate", expr: errorRate, duration: "5m", severity: "critical",
                summary: "{{ $labels.job }} answers more than \(percent(thresholds.errorRate)) of requests with 5xx",
                description: "{{ $value | humanizePercentage }} of the requests to {{ $labels.job }} failed with a 5xx status over 5 minutes (threshold \(percent(thresholds.errorRate)))."
            ),
            Rule(
                alert: "HighLatencyP99", expr: latency, duration: "10m", severity: "warning",
                summary: "{{ $labels.job }} p99 latency is above \(thresholds.p99Latency.text)",
                description: "The 99th percentile of request durations of {{ $labels.job }} is {{ $value | humanizeDuration }} (threshold \(thresholds.p99Latency.text))."
            ),
        ]
    }

    /// Events wait in a service's outbox: the broker is unreachable or the
    /// relay is stuck. Requests still succeed, so nothing else shows it.
    static let outboxBacklogSeconds: Double = 300

    private static let outboxBacklog = Rule(
        alert: "OutboxBacklog",
        expr: "max by (\(MetricNames.Label.service)) (\(MetricNames.outboxOldestUnsent)) > \(number(outboxBacklogSeconds))", duration: "5m",
        severity: "critical",
        summary: "{{ $labels.service }} cannot publish its events",
        description: "The oldest event in the outbox of {{ $labels.service }} has waited {{ $value | humanizeDuration }} to reach Kafka (threshold \(Int(outboxBacklogSeconds) / 60) minutes)."
    )

    private static func consumerLag(_ topology: Topology) -> Rule {
        let limit = topology.monitoring.alerts.consumerLag
        let topic = MetricNames.Label.topic, group = MetricNames.Label.group
        return Rule(
            alert: "KafkaConsumerLag", expr: "sum by (\(group), \(topic)) (\(MetricNames.consumerLag)) > \(limit)", duration: "10m",
            severity: "warning",
            summary: "Consumer group {{ $labels.\(group) }} lags on {{ $labels.\(topic) }}",
            description: "Consumer group {{ $labels.\(group) }} is {{ $value }} messages behind on topic {{ $labels.\(topic) }} (threshold \(limit))."
        )
    }

    private static func diskFree(_ topology: Topology) -> Rule {
        let free = topology.monitoring.alerts.diskFree
        let filter = "fstype!~\"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.*|nfs.*|cifs\""
        let expr = """
        node_filesystem_avail_bytes{\(filter)} / node_filesystem_size_bytes{\(filter)} < \(number(free))
          and on (instance, device, mountpoint) node_filesystem_readonly == 0
        """
        return Rule(
            alert: "DiskSpaceLow", expr: expr, duration: "5m", severity: "critical",
            summary: "Less than \(percent(free)) disk space left on {{ $labels.instance }}",
            description: "{{ $labels.mountpoint }} on {{ $labels.instance }} has {{ $value | humanizePercentage }} free (threshold \(percent(free)))."
        )
    }

    /// `0.05`, `1000`, `0.5`: the shortest exact PromQL literal.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// `5%`, `0.5%`.
    static func percent(_ share: Double) -> String { number((share * 1000).rounded() / 10) + "%" }
}
