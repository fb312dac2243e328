import SwapTopology

/// Grafana's provisioning files: the Prometheus datasource (fixed uid, which
/// every dashboard references) and the file provider that loads the dashboards.
enum GrafanaProvisioning {
    static func datasource(_ topology: Topology) -> String {
        let document: YAMLValue = .map([
            ("apiVersion", .int(1)),
            ("datasources", .list([
                .map([
                    ("name", .string("Prometheus")),
                    ("type", .string("prometheus")),
                    ("uid", .string(MonitoringNaming.datasourceUID)),
                    ("access", .string("proxy")),
                    ("url", .string("http://\(MonitoringNaming.address(MonitoringNaming.prometheus, in: topology))")),
                    ("isDefault", .bool(true)),
                    ("editable", .bool(false)),
                    ("jsonData", .map([
                        ("timeInterval", .string(topology.monitoring.scrapeInterval.text)),
                        ("httpMethod", .string("POST")),
                    ])),
                ]),
            ])),
        ])
        return GeneratedHeader.hash(topology.environment) + document.render()
    }

    static func dashboards(_ topology: Topology) -> String {
        let document: YAMLValue = .map([
            ("apiVersion", .int(1)),
            ("providers", .list([
                .map([
                    ("name", .string(topology.project)),
                    ("orgId", .int(1)),
                    ("folder", .string(GrafanaDashboard.folderTitle(topology))),
                    ("folderUid", .string(topology.project)),
                    ("type", .string("file")),
                    ("disableDeletion", .bool(false)),
                    ("updateIntervalSeconds", .int(60)),
                    // The JSON files are the source of truth; UI edits would be overwritten.
                    ("allowUiUpdates", .bool(false)),
                    ("options", .map([
                        ("path", .string(MonitoringNaming.ContainerPath.grafanaDashboards)),
                        ("foldersFromFilesStructure", .bool(false)),
                    ])),
                ]),
            ])),
        ])
        return GeneratedHeader.hash(topology.environment) + document.render()
    }
}
