import SwapTopology

/// Monitoring, the backup job and the notes of the stack.
extension SwarmStack {
    mutating func addMonitoring() {
        let monitoring = topology.monitoring
        if monitoring.prometheus {
            let files = [MonitoringContainers.prometheusConfig, MonitoringContainers.alertRules]
            add(MonitoringNaming.prometheus.name, [
                ("image", .string(DockerImages.prometheus)),
                ("configs", .list(files.map { configs.mount($0.config, file: $0.file, at: $0.path) })),
                ("volumes", .strings([volume("prometheus-data", at: MonitoringContainers.prometheusData)])),
                ("networks", .strings([Self.backend])),
                ("healthcheck", MonitoringContainers.prometheusHealthcheck),
            ], deploy: .init(kind: .stateful, resources: InfrastructureResources.prometheus, constraints: [dataNodes]))
            addExporters()
        }
        if monitoring.alertmanager {
            let file = MonitoringContainers.alertmanagerConfig
            add(MonitoringNaming.alertmanager.name, [
                ("image", .string(DockerImages.alertmanager)),
                ("secrets", secretList(MonitoringContainers.alertmanagerSecrets(topology))),
                ("configs", .list([configs.mount(file.config, file: file.file, at: file.path)])),
                ("volumes", .strings([volume("alertmanager-data", at: MonitoringContainers.alertmanagerData)])),
                ("networks", .strings([Self.backend])),
                ("healthcheck", MonitoringContainers.alertmanagerHealthcheck),
            ], deploy: .init(kind: .stateful, resources: InfrastructureResources.alertmanager, constraints: [dataNodes]))
        }
        if monitoring.grafana {
            let files = MonitoringContainers.grafanaMounts(topology)
            add(MonitoringNaming.grafana.name, [
                ("image", .string(DockerImages.grafana)),
                ("environment", DockerYAML.environment(MonitoringContainers.grafanaEnvironment(topology))),
                ("secrets", secretList(MonitoringContainers.grafanaSecrets(topology))),
                ("configs", .list(files.map { configs.mount($0.config, file: $0.file, at: $0.path) })),
                ("volumes", .strings([volume("grafana-data", at: MonitoringContainers.grafanaData)])),
                ("networks", .strings([Self.backend])),
                ("healthcheck", MonitoringContainers.grafanaHealthcheck),
            ], deploy: .init(kind: .stateful, resources: InfrastructureResources.grafana, constraints: [dataNodes]))
        }
    }

    /// Host metrics on every node, scraped by Prometheus as `tasks.<name>`.
    mutating func addExporters() {
        add(MonitoringNaming.nodeExporter.name, [
            ("image", .string(DockerImages.nodeExporter)),
            ("command", DockerYAML.strings([
                "--path.procfs=/host/proc", "--path.sysfs=/host/sys", "--path.rootfs=/rootfs",
                "--collector.filesystem.mount-points-exclude=^/(sys|proc|dev|host|etc|rootfs/var/lib/docker)($|/)",
            ])),
            ("volumes", .strings(["/proc:/host/proc:ro", "/sys:/host/sys:ro", "/:/rootfs:ro"])),
            ("networks", .strings([Self.backend])),
            ("healthcheck", MonitoringContainers.healthcheck(MonitoringNaming.nodeExporter, path: "/metrics")),
        ], deploy: .init(kind: .global, resources: InfrastructureResources.nodeExporter))
        add(MonitoringNaming.cadvisor.name, [
            ("image", .string(DockerImages.cadvisor)),
            ("command", DockerYAML.strings(["--docker_only=true", "--housekeeping_interval=15s"])),
            ("volumes", .strings([
                "/:/rootfs:ro", "/var/run:/var/run:ro", "/sys:/sys:ro", "/var/lib/docker/:/var/lib/docker:ro", "/dev/disk/:/dev/disk:ro",
            ])),
            ("networks", .strings([Self.backend])),
            ("healthcheck", MonitoringContainers.healthcheck(MonitoringNaming.cadvisor, path: "/healthz")),
        ], deploy: .init(kind: .global, resources: InfrastructureResources.cadvisor))
    }

    // MARK: Backups

    static let backupScriptPath = "/opt/swap/backup.sh"
    static let backupFolder = "/backups"

    /// busybox crond runs scripts/backup.sh on the topology's schedule (UTC).
    /// backup.sh needs bash, and s3cmd for off-site copies: the Alpine image of
    /// the server's major version has pg_dump and crond, so both are added at start.
    /// The environment is saved for the cron job, which crond would not pass on.
    mutating func addBackup(_ store: Datastore) {
        guard let backup = store.backup else { return }
        var variables: [(String, String)] = [("BACKUP_SCHEDULE", backup.schedule)]
        var secretNames: [String] = []
        if store.managed, let url = store.urlSecret {
            variables.append(("DATABASE_URL_FILE", Addresses.docker.secretFile(url.value)))
            secretNames.append(url.value)
        } else {
            variables += [
                ("DATABASE_URL_FILE", ""),
                ("PGHOST", store.name), ("PGPORT", String(store.standardPort)),
                ("PGUSER", topology.project), ("PGDATABASE", topology.project),
                ("PGPASSWORD_FILE", Addresses.docker.secretFile(InfrastructureSecrets.databasePassword)),
            ]
            secretNames.append(InfrastructureSecrets.databasePassword)
        }
        variables += [("BACKUP_DIR", Self.backupFolder), ("RETENTION_DAYS", String(backup.retentionDays))]
        var environment = DockerYAML.environment(variables)
        if topology.uploadsBackupsOffSite {
            // Not in the topology: the deploying shell names the bucket; empty keeps dumps local.
            let s3: [(String, YAMLValue)] = [
                ("S3_BUCKET", .string("${BACKUP_S3_BUCKET:-}")),
                ("S3_ENDPOINT", .string("${BACKUP_S3_ENDPOINT:-}")),
                ("S3_ACCESS_KEY_FILE", .string(Addresses.docker.secretFile(InfrastructureSecrets.backupAccessKey))),
                ("S3_SECRET_KEY_FILE", .string(Addresses.docker.secretFile(InfrastructureSecrets.backupSecretKey))),
            ]
            if case let .map(pairs) = environment { environment = .map(pairs + s3) }
            secretNames += [InfrastructureSecrets.backupAccessKey, InfrastructureSecrets.backupSecretKey]
        }
        let script = """
            set -e
            apk add --no-cache bash s3cmd > /dev/null
            export -p > /run/backup.env
            echo "$BACKUP_SCHEDULE . /run/backup.env; bash \(Self.backupScriptPath) > /proc/1/fd/1 2>&1" > /etc/crontabs/root
            exec crond -f -l 8

            """
        add("\(store.name)-backup", [
            ("image", .string(DockerImages.backup(store))),
            ("entrypoint", .list([.string("/bin/sh"), .string("-c"), .block(DockerYAML.escaped(script))])),
            ("environment", environment),
            ("secrets", secretList(secretNames)),
            ("configs", .list([configs.mount("backup_sh", file: "./scripts/backup.sh", at: Self.backupScriptPath)])),
            ("volumes", .strings([volume("\(store.name)-backups", at: Self.backupFolder)])),
            ("networks", .strings([Self.backend])),
        ], deploy: .init(kind: .stateful, resources: InfrastructureResources.backup, constraints: [dataNodes]))
    }

    // MARK: Notes

    mutating func addNotes() {
        let dependencies = topology.services.filter { !$0.dependsOn.isEmpty || !$0.uses.isEmpty }
        if !dependencies.isEmpty {
            notes.append(
                "depends_on is not expressed in Swarm (it rejects the long form and ignores the short one): "
                    + "\(dependencies.map(\.name).joined(separator: ", ")) wait for their dependencies' readiness themselves "
                    + "and are restarted until healthy"
            )
        }
        for store in topology.managedDatabases {
            notes.append(
                "datastore '\(store.name)' is managed: no database service; services read DATABASE_URL_FILE "
                    + "(secret \(SwarmStack.secretName(store.urlSecret?.value ?? "", topology)))"
            )
        }
        let label = topology.cluster.dataNodeLabel
        for broker in topology.brokers where broker.nodes.value > 1 {
            notes.append(
                "broker '\(broker.name)': node n of \(broker.nodes.value) runs only on the machine labelled \(label).\(broker.name)=n "
                    + "(its volume is local): `docker node update --label-add \(label).\(broker.name)=1 NODE`, and so on"
            )
        }
        if !topology.brokers.isEmpty {
            notes.append("Kafka topics are not created by the stack: scripts/deploy.sh runs kafka/create-topics.sh after deploying")
        }
        if topology.uploadsBackupsOffSite {
            notes.append(
                "off-site backups upload to BACKUP_S3_BUCKET at BACKUP_S3_ENDPOINT (the topology names no bucket): "
                    + "the deploy workflow exports both from the GitHub environment's variables; export them when deploying by hand"
            )
        }
        if topology.ingress.tls == .letsencrypt {
            notes.append(
                "Let's Encrypt under Swarm: volumes are node-local, so certbot runs on every manager and each keeps its own certificate; "
                    + "the HTTP-01 challenge must reach the node asking (point the domain at the managers running nginx)"
            )
        }
        if topology.ingress.replicas > topology.cluster.managers {
            notes.append(
                "ingress replicas \(topology.ingress.replicas) exceed the \(topology.cluster.managers) manager(s) nginx runs on "
                    + "(one per node, host ports): \(topology.ingress.replicas - topology.cluster.managers) stay pending"
            )
        }
        if topology.monitoring.prometheus {
            notes.append("cAdvisor runs without --privileged and devices (Swarm cannot grant them): some container metrics are missing")
        }
    }
}
