import SwapTopology

/// `<env>/monitoring/grafana/dashboards/<service>.json`: one dashboard per
/// enabled service. HTTP panels always; event panels for the topics the
/// service produces or consumes. Thresholds come from `monitoring.alerts`.
enum GrafanaDashboard {
    static func folderTitle(_ topology: Topology) -> String { "\(topology.project) (\(topology.environment))" }

    /// Stable across regenerations (Grafana upserts by uid), at most 40 characters.
    static func uid(_ service: Service, in topology: Topology) -> String {
        String("\(topology.project)-\(service.name)".prefix(40))
    }

    private struct Panel {
        var title: String
        var unit: String
        var queries: [(expr: String, legend: String)]
        var threshold: Double?
    }

    static func render(_ service: Service, in topology: Topology) -> String {
        let panels = self.panels(for: service, in: topology)
        let dashboard: JSONValue = .object([
            ("uid", .string(uid(service, in: topology))),
            ("title", .string("\(topology.project) / \(service.name)")),
            ("description", .string(GeneratedHeader.text + " Environment: \(topology.environment).")),
            ("tags", .array([.string(topology.project), .string(topology.environment), .string("service")])),
            ("editable", .bool(false)),
            ("timezone", .string("utc")),
            ("refresh", .string("30s")),
            ("schemaVersion", .int(39)),
            ("version", .int(1)),
            ("time", .object([("from", .string("now-6h")), ("to", .string("now"))])),
            ("templating", .object([("list", .array([]))])),
            ("annotations", .object([("list", .array([]))])),
            ("panels", .array(panels.enumerated().map { panel($1, index: $0) })),
        ])
        return dashboard.render()
    }

    private static func panels(for service: Service, in topology: Topology) -> [Panel] {
        let job = "job=\"\(service.name)\""
        let requests = MetricNames.httpRequests
        let thresholds = topology.monitoring.alerts
        let rate = "[$__rate_interval]"
        var panels = [
            Panel(
                title: "Request rate", unit: "reqps",
                queries: [("sum by (\(MetricNames.Label.route)) (rate(\(requests){\(job)}\(rate)))", "{{\(MetricNames.Label.route)}}")]
            ),
            Panel(
                title: "Error rate (5xx share)", unit: "percentunit",
                queries: [(
                    "sum(rate(\(requests){\(job),\(MetricNames.Label.status)=~\"5..\"}\(rate))) / sum(rate(\(requests){\(job)}\(rate)))",
                    "5xx"
                )],
                threshold: thresholds.errorRate
            ),
            Panel(
                title: "Latency p50 / p99", unit: "s",
                queries: [0.5, 0.99].map { quantile in (
                    "histogram_quantile(\(AlertRules.number(quantile)), sum by (le) (rate(\(MetricNames.httpRequestDurationBucket){\(job)}\(rate))))",
                    "p\(Int((quantile * 100).rounded()))"
                ) },
                threshold: Double(thresholds.p99Latency.totalMilliseconds) / 1000
            ),
            Panel(
                title: "Instances up (\(service.replicas.value) desired)", unit: "short",
                queries: [("sum(up{\(job)})", "up")]
            ),
        ]
        if service.uses.contains(where: { topology.datastore(named: $0.value) != nil }) {
            panels.append(Panel(
                title: "Connection pools", unit: "short",
                queries: [
                    ("sum by (pool) (\(MetricNames.poolConnections){\(job),state=\"open\"})", "{{pool}} open"),
                    ("max by (pool) (\(MetricNames.poolConnections){\(job),state=\"max\"})", "{{pool}} max"),
                    ("sum by (pool) (\(MetricNames.poolWaiting){\(job)})", "{{pool}} waiting"),
                ]
            ))
        }
        let topic = MetricNames.Label.topic
        if !service.produces.isEmpty {
            panels.append(Panel(
                title: "Events published", unit: "ops",
                queries: [("sum by (\(topic)) (rate(\(MetricNames.eventsPublished){\(job)}\(rate)))", "{{\(topic)}}")]
            ))
            panels.append(Panel(
                title: "Oldest unpublished event", unit: "s",
                queries: [("max(\(MetricNames.outboxOldestUnsent){\(job)})", "age")],
                threshold: AlertRules.outboxBacklogSeconds
            ))
        }
        if !service.consumes.isEmpty {
            panels.append(Panel(
                title: "Events consumed", unit: "ops",
                queries: [("sum by (\(topic)) (rate(\(MetricNames.eventsConsumed){\(job)}\(rate)))", "{{\(topic)}}")]
            ))
            panels.append(Panel(
                title: "Consumer lag", unit: "short",
                queries: [("sum by (\(topic)) (\(MetricNames.consumerLag){\(job)})", "{{\(topic)}}")],
                threshold: Double(thresholds.consumerLag)
            ))
        }
        return panels
    }

    private static func panel(_ panel: Panel, index: Int) -> JSONValue {
        let datasource: JSONValue = .object([("type", .string("prometheus")), ("uid", .string(MonitoringNaming.datasourceUID))])
        var defaults: [(String, JSONValue)] = [("unit", .string(panel.unit))]
        if let threshold = panel.threshold {
            defaults.append(("custom", .object([("thresholdsStyle", .object([("mode", .string("line"))]))])))
            defaults.append(("thresholds", .object([
                ("mode", .string("absolute")),
                ("steps", .array([
                    .object([("color", .string("green")), ("value", .null)]),
                    .object([("color", .string("red")), ("value", .double(threshold))]),
                ])),
            ])))
        }
        let refIDs = ["A", "B", "C", "D"]
        return .object([
            ("id", .int(index + 1)),
            ("type", .string("timeseries")),
            ("title", .string(panel.title)),
            ("datasource", datasource),
            ("gridPos", .object([
                ("h", .int(8)), ("w", .int(12)), ("x", .int(index % 2 * 12)), ("y", .int(index / 2 * 8)),
            ])),
            ("fieldConfig", .object([("defaults", .object(defaults)), ("overrides", .array([]))])),
            ("targets", .array(panel.queries.enumerated().map { offset, query in
                .object([
                    ("refId", .string(refIDs[offset % refIDs.count])),
                    ("datasource", datasource),
                    ("expr", .string(query.expr)),
                    ("legendFormat", .string(query.legend)),
                ])
            })),
        ])
    }
}
