import SwapTopology

/// nginx and certbot in the stack.
extension SwarmStack {
    static let managers = "node.role == manager"

    /// nginx runs on managers, one task per node: the domain points at the
    /// managers, and certbot (global on the managers) keeps the certificate in
    /// each one's local volume.
    mutating func addIngress() {
        let ingress = topology.ingress
        var mounts: [String] = []
        var configMounts: [YAMLValue] = []
        var command: YAMLValue?
        switch ingress.tls {
        case .none:
            configMounts.append(configs.mount("nginx_conf", file: NginxContainer.configFile, at: NginxContainer.configPath))
        case .selfSigned:
            configMounts.append(configs.mount("nginx_conf", file: NginxContainer.configFile, at: NginxContainer.configPath))
            mounts.append(volume("nginx-certs", at: NginxContainer.certsPath, readOnly: true))
        case .letsencrypt:
            configMounts.append(configs.mount("nginx_conf", file: NginxContainer.configFile, at: NginxContainer.managedConfigPath))
            configMounts.append(configs.mount("nginx_bootstrap_conf", file: NginxContainer.bootstrapConfigFile, at: NginxContainer.bootstrapConfigPath))
            mounts.append(volume("letsencrypt", at: NginxContainer.letsencryptPath, readOnly: true))
            mounts.append(volume("acme-webroot", at: NginxContainer.webrootPath, readOnly: true))
            command = NginxContainer.letsencryptCommand(ingress)
        }
        add("nginx", [
            ("image", .string(DockerImages.nginx)),
            ("command", command),
            ("configs", .list(configMounts)),
            ("volumes", mounts.isEmpty ? nil : .strings(mounts)),
            ("ports", .list(NginxContainer.ports(ingress).map { port in
                .map([("target", .int(port)), ("published", .int(port)), ("protocol", .string("tcp")), ("mode", .string("host"))])
            })),
            ("networks", .strings([Self.frontend])),
            ("healthcheck", NginxContainer.healthcheck),
        ], deploy: .init(
            kind: .edge, replicas: ingress.replicas, resources: InfrastructureResources.nginx, constraints: [Self.managers],
            maxReplicasPerNode: 1
        ))
        if ingress.tls == .letsencrypt {
            add("certbot", [
                ("image", .string(DockerImages.certbot)),
                ("entrypoint", DockerYAML.strings(CertbotContainer.entrypoint(ingress))),
                ("volumes", .strings([
                    volume("letsencrypt", at: NginxContainer.letsencryptPath),
                    volume("acme-webroot", at: NginxContainer.webrootPath),
                ])),
                ("networks", .strings([Self.frontend])),
            ], deploy: .init(kind: .global, resources: InfrastructureResources.certbot, constraints: [Self.managers]))
        }
    }
}
