import SwapTopology

/// nginx, certbot, monitoring and the notes of the compose file.
extension ComposeFile {
    mutating func addIngress() {
        let ingress = topology.ingress
        var mounts = ["\(NginxContainer.configFile):\(NginxContainer.configPath):ro"]
        switch ingress.tls {
        case .none: break
        case .selfSigned: mounts.append("\(NginxContainer.certsFolder):\(NginxContainer.certsPath):ro")
        case .letsencrypt:
            mounts = [
                "\(NginxContainer.configFile):\(NginxContainer.managedConfigPath):ro",
                "\(NginxContainer.bootstrapConfigFile):\(NginxContainer.bootstrapConfigPath):ro",
            ]
            mounts.append(volume("letsencrypt", at: NginxContainer.letsencryptPath, readOnly: true))
            mounts.append(volume("acme-webroot", at: NginxContainer.webrootPath, readOnly: true))
        }
        add("nginx", [
            ("image", .string(DockerImages.nginx)),
            ("command", ingress.tls == .letsencrypt ? NginxContainer.letsencryptCommand(ingress) : nil),
            ("volumes", .strings(mounts)),
            // The only published ports of the file.
            ("ports", .strings(NginxContainer.ports(ingress).map { "\($0):\($0)" })),
            ("healthcheck", NginxContainer.healthcheck),
            ("depends_on", Self.dependsOn(topology.routedServices.map { ($0.name, "service_healthy") })),
        ])
        if ingress.tls == .letsencrypt {
            add("certbot", [
                ("image", .string(DockerImages.certbot)),
                ("entrypoint", DockerYAML.strings(CertbotContainer.entrypoint(ingress))),
                ("volumes", .strings([
                    volume("letsencrypt", at: NginxContainer.letsencryptPath),
                    volume("acme-webroot", at: NginxContainer.webrootPath),
                ])),
                ("depends_on", Self.dependsOn([("nginx", "service_started")])),
            ])
        }
    }

    mutating func addMonitoring() {
        let monitoring = topology.monitoring
        if monitoring.prometheus {
            add(MonitoringNaming.prometheus.name, [
                ("image", .string(DockerImages.prometheus)),
                ("volumes", .strings([
                    bind(MonitoringContainers.prometheusConfig),
                    bind(MonitoringContainers.alertRules),
                    volume("prometheus-data", at: MonitoringContainers.prometheusData),
                ])),
                ("healthcheck", MonitoringContainers.prometheusHealthcheck),
            ])
        }
        if monitoring.alertmanager {
            add(MonitoringNaming.alertmanager.name, [
                ("image", .string(DockerImages.alertmanager)),
                ("secrets", secretList(MonitoringContainers.alertmanagerSecrets(topology))),
                ("volumes", .strings([
                    bind(MonitoringContainers.alertmanagerConfig),
                    volume("alertmanager-data", at: MonitoringContainers.alertmanagerData),
                ])),
                ("healthcheck", MonitoringContainers.alertmanagerHealthcheck),
            ])
        }
        if monitoring.grafana {
            add(MonitoringNaming.grafana.name, [
                ("image", .string(DockerImages.grafana)),
                ("environment", DockerYAML.environment(MonitoringContainers.grafanaEnvironment(topology))),
                ("secrets", secretList(MonitoringContainers.grafanaSecrets(topology))),
                ("volumes", .strings([
                    "\(MonitoringContainers.grafanaProvisioningFolder):\(MonitoringNaming.ContainerPath.grafanaProvisioning):ro",
                    "\(MonitoringContainers.grafanaDashboardsFolder):\(MonitoringNaming.ContainerPath.grafanaDashboards):ro",
                    volume("grafana-data", at: MonitoringContainers.grafanaData),
                ])),
                ("healthcheck", MonitoringContainers.grafanaHealthcheck),
                ("depends_on", Self.dependsOn(monitoring.prometheus ? [(MonitoringNaming.prometheus.name, "service_healthy")] : [])),
            ])
        }
    }

    func bind(_ mount: MonitoringContainers.Mount) -> String { "\(mount.file):\(mount.path):ro" }

    /// What the topology asks for that one Docker host does not do.
    mutating func addNotes() {
        for store in topology.containerDatabases {
            if let backup = store.backup {
                notes.append(
                    "datastore '\(store.name)' backup (\(backup.schedule), \(backup.retentionDays) days) is not scheduled under compose; "
                        + "run scripts/backup.sh by hand when needed"
                )
            }
        }
        for store in topology.managedDatabases {
            notes.append("datastore '\(store.name)' is managed: no database container; services read DATABASE_URL_FILE")
        }
        if topology.ingress.replicas > 1 {
            notes.append("ingress replicas \(topology.ingress.replicas): nginx publishes host ports 80/443, so compose runs one replica")
        }
        if topology.cluster.managers > 1 || topology.cluster.workers > 0 {
            notes.append("cluster layout (managers, workers, placement on '\(topology.cluster.dataNodeLabel)' nodes) applies to Swarm; compose runs on one host")
        }
    }
}
