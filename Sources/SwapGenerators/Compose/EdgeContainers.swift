import SwapTopology

/// nginx and certbot as both Docker targets run them.
enum NginxContainer {
    static let configFile = "./nginx/nginx.conf"
    static let configPath = "/etc/nginx/nginx.conf"
    /// Self-signed certificates: `fullchain.pem` and `privkey.pem` in the git-ignored
    /// secrets folder (a private key never goes into generated/).
    static let certsFolder = "../../secrets/certs"
    static let certsPath = NginxOptions.dockerCertificateFolder
    static let letsencryptPath = "/etc/letsencrypt"
    /// certbot writes challenges here; nginx serves them at /.well-known/acme-challenge/.
    static let webrootPath = NginxOptions.dockerACMEWebroot

    static func ports(_ ingress: Ingress) -> [Int] { ingress.tls == .none ? [80] : [80, 443] }

    /// nginx:alpine ships curl; the health path answers 200 on plain HTTP
    /// without touching an upstream (an unknown Host gets the dropping default server).
    static let healthcheck = DockerYAML.healthcheck(
        ["CMD", "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1\(NginxConfig.healthPath)"],
        interval: .seconds(10), timeout: .seconds(3), retries: 3, startPeriod: .seconds(10)
    )

    /// With Let's Encrypt both generated configs are mounted here and the
    /// entry script copies the one that fits to /etc/nginx/nginx.conf.
    static let managedConfigPath = "/etc/swap/nginx.conf"
    static let bootstrapConfigPath = "/etc/swap/bootstrap.conf"
    static let bootstrapConfigFile = "./nginx/bootstrap.conf"

    static func letsencryptCommand(_ ingress: Ingress) -> YAMLValue {
        .list([.string("/bin/sh"), .string("-c"), .block(DockerYAML.escaped(letsencryptScript(ingress)))])
    }

    /// Serves bootstrap.conf (HTTP and ACME challenges only) until certbot has
    /// issued the certificate, then nginx.conf; reloads whenever certbot renews it.
    static func letsencryptScript(_ ingress: Ingress) -> String {
        let live = "\(NginxOptions.letsencryptFolder(ingress.domain ?? "localhost"))/fullchain.pem"
        return """
            live=\(live)
            state() { if [ -e "$live" ]; then readlink -f "$live"; else echo none; fi; }
            use() {
              if [ -e "$live" ]; then cp \(managedConfigPath) /etc/nginx/nginx.conf
              else cp \(bootstrapConfigPath) /etc/nginx/nginx.conf; fi
            }
            use
            seen=$(state)
            nginx -g 'daemon off;' &
            pid=$!
            trap 'kill -QUIT $pid' TERM INT
            while kill -0 $pid 2>/dev/null; do
              sleep 60 & wait $!
              now=$(state)
              if [ "$now" != "$seen" ]; then seen=$now; use; nginx -s reload; fi
            done
            wait $pid

            """
    }
}

enum CertbotContainer {
    /// Issues the certificate if missing and renews it when due, every 12 hours,
    /// through the webroot nginx serves at /.well-known/acme-challenge/.
    static func entrypoint(_ ingress: Ingress) -> [String] {
        let domain = ingress.domain ?? "localhost"
        let email = ingress.acmeEmail ?? ""
        let certonly = "certbot certonly --webroot -w \(NginxContainer.webrootPath) -d \(domain) --email \(email)"
            + " --agree-tos --non-interactive --keep-until-expiring"
        return ["/bin/sh", "-c", "trap exit TERM; while :; do \(certonly); sleep 12h & wait $!; done"]
    }
}

/// Prometheus, Alertmanager and Grafana, configured from the generated
/// `monitoring/` files at the paths `MonitoringNaming` fixes.
enum MonitoringContainers {
    /// A generated file and where a container reads it.
    struct Mount {
        var file: String
        var path: String
        /// The Swarm config's key.
        var config: String
    }

    static let prometheusConfig = Mount(
        file: "./monitoring/prometheus.yml", path: MonitoringNaming.ContainerPath.prometheusConfig, config: "prometheus_yml"
    )
    static let alertRules = Mount(file: "./monitoring/alerts.yml", path: MonitoringNaming.ContainerPath.alertRules, config: "alerts_yml")
    static let alertmanagerConfig = Mount(
        file: "./monitoring/alertmanager.yml", path: MonitoringNaming.ContainerPath.alertmanagerConfig, config: "alertmanager_yml"
    )

    /// Compose mounts the two Grafana folders whole.
    static let grafanaProvisioningFolder = "./monitoring/grafana/provisioning"
    static let grafanaDashboardsFolder = "./monitoring/grafana/dashboards"

    /// Swarm configs are single files: the datasource, the dashboard provider
    /// and one dashboard per enabled service, as the monitoring renderer writes them.
    static func grafanaMounts(_ topology: Topology) -> [Mount] {
        let provisioning = MonitoringNaming.ContainerPath.grafanaProvisioning
        let dashboards = MonitoringNaming.ContainerPath.grafanaDashboards
        var mounts = [
            Mount(
                file: "\(grafanaProvisioningFolder)/datasources/prometheus.yml",
                path: "\(provisioning)/datasources/prometheus.yml", config: "grafana_datasource_yml"
            ),
            Mount(
                file: "\(grafanaProvisioningFolder)/dashboards/\(topology.project).yml",
                path: "\(provisioning)/dashboards/\(topology.project).yml", config: "grafana_dashboards_yml"
            ),
        ]
        for service in topology.services {
            mounts.append(Mount(
                file: "\(grafanaDashboardsFolder)/\(service.name).json", path: "\(dashboards)/\(service.name).json",
                config: "grafana_dashboard_\(ServiceEnvironment.environmentName(service.name).lowercased())_json"
            ))
        }
        return mounts
    }

    static let prometheusData = "/prometheus"
    static let alertmanagerData = "/alertmanager"
    static let grafanaData = "/var/lib/grafana"

    /// The Prometheus images are busybox-based and Grafana's is Alpine: wget, no curl.
    static func healthcheck(_ component: MonitoringNaming.Component, path: String, startPeriod: Duration = .seconds(15)) -> YAMLValue {
        DockerYAML.healthcheck(
            ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:\(component.port)\(path)"],
            interval: .seconds(15), timeout: .seconds(5), retries: 3, startPeriod: startPeriod
        )
    }

    static var prometheusHealthcheck: YAMLValue { healthcheck(MonitoringNaming.prometheus, path: "/-/healthy") }
    static var alertmanagerHealthcheck: YAMLValue { healthcheck(MonitoringNaming.alertmanager, path: "/-/healthy") }
    static var grafanaHealthcheck: YAMLValue { healthcheck(MonitoringNaming.grafana, path: "/api/health", startPeriod: .seconds(30)) }

    /// The admin password comes from a secret file (Grafana's `__FILE` convention).
    static func grafanaEnvironment(_ topology: Topology) -> [(String, String)] {
        var variables = [("GF_USERS_ALLOW_SIGN_UP", "false"), ("GF_AUTH_ANONYMOUS_ENABLED", "false")]
        if topology.hasSecret(InfrastructureSecrets.grafanaPassword) {
            variables.append(("GF_SECURITY_ADMIN_PASSWORD__FILE", Addresses.docker.secretFile(InfrastructureSecrets.grafanaPassword)))
        }
        return variables
    }

    static func grafanaSecrets(_ topology: Topology) -> [String] {
        topology.hasSecret(InfrastructureSecrets.grafanaPassword) ? [InfrastructureSecrets.grafanaPassword] : []
    }

    /// The webhook URL alertmanager.yml reads from a file (``AlertmanagerConfig``).
    static func alertmanagerSecrets(_ topology: Topology) -> [String] {
        AlertmanagerConfig.deliversToSlack(topology) ? [InfrastructureSecrets.alertWebhook] : []
    }
}
