import Foundation
import LocalServers
import SwapGenerators
import SwapTopology

/// Service replicas and nginx.
enum ServiceComponents {
    /// Every replica is its own process on its own port, with the
    /// environment `ServiceEnvironment` gives every deployment (127.0.0.1 and
    /// the ports picked at start; secrets as files in the state folder).
    static func replicas(of service: Service, ports: [Int], topology: Topology, context: PlanContext) throws -> [ComponentSpec] {
        let configuration = context.configuration
        let command = configuration.command(forProduct: service.product)
            ?? [configuration.binFolder.appendingPathComponent(service.product).path]
        let overridden = configuration.command(forProduct: service.product) != nil
        let variables = ServiceEnvironment.variables(for: service, in: topology, addresses: context.addresses)
        let gatePath = readinessPath(service)
        let multiple = ports.count > 1
        var dependencies = service.uses.map(\.value).filter { context.infrastructure.contains($0) }
        for dependency in service.dependsOn {
            dependencies += context.replicaNames[dependency.value] ?? []
        }
        return ports.enumerated().map { index, port in
            let name = multiple ? "\(service.name).\(index + 1)" : service.name
            var environment = baseEnvironment()
            for variable in variables { environment[variable.name] = variable.value }
            environment["PORT"] = String(port)
            environment["HOST"] = "127.0.0.1"
            environment["SWAP_REPLICA"] = String(index + 1)
            if environment["SHUTDOWN_GRACE_PERIOD"] == nil {
                // Shorter than the harness's own grace period, so a clean stop never needs SIGKILL.
                let seconds = max(1, Int(configuration.stopGracePeriod.components.seconds) * 8 / 10)
                environment["SHUTDOWN_GRACE_PERIOD"] = "\(seconds)s"
            }
            environment.merge(configuration.serviceEnvironment) { _, extra in extra }
            let gate = HealthProbe(kind: .http, port: port, path: gatePath)
            let executable = command[0]
            return ComponentSpec(
                name: name, kind: .service, group: service.name, replica: multiple ? index + 1 : nil, port: port,
                dependencies: dependencies,
                launch: LaunchSpec(
                    executable: executable, arguments: Array(command.dropFirst()), environment: environment,
                    workingDirectory: configuration.root, logFile: context.layout.log(name)
                ),
                health: HealthProbe(kind: .http, port: port, path: service.health.path),
                timeout: configuration.timeout(for: service),
                logFiles: [context.layout.log(name)],
                prepare: {
                    if !overridden, !FileManager.default.isExecutableFile(atPath: executable) {
                        throw HarnessError.missingProduct(service: service.name, path: executable)
                    }
                },
                readiness: { await gate.check() }
            )
        }
    }

    /// The topology's health path, except that a `/health` which aggregates
    /// upstream services (the gateway's, which is 503 while they start or
    /// whenever one is down) is replaced by the service's own `/ready`.
    static func readinessPath(_ service: Service) -> String {
        service.health.path == "/health" && !service.dependsOn.isEmpty ? "/ready" : service.health.path
    }

    /// What a service inherits from swapctl's environment: enough to run,
    /// nothing that could shadow the topology's variables.
    static func baseEnvironment() -> [String: String] {
        let inherited = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "LD_LIBRARY_PATH"]
        let current = ProcessInfo.processInfo.environment
        var environment: [String: String] = [:]
        for name in inherited { environment[name] = current[name] }
        return environment
    }
}

enum NginxComponent {
    static func make(topology: Topology, httpPort: Int, httpsPort: Int, context: PlanContext) throws -> ComponentSpec {
        let nginx = try HostTools.require("nginx", hint: "apt-get install nginx")
        let prefix = context.layout.data("nginx")
        var options = NginxOptions.local(topology, httpPort: httpPort, httpsPort: httpsPort, ports: context.servicePorts)
        options.paths = NginxOptions.Paths(
            pid: "nginx.pid", errorLog: "stderr", accessLog: context.layout.log("nginx-access").path, tempFolder: ""
        )
        let configuration = NginxConfig.render(topology, options)
        let ca = LocalCA(folder: context.configuration.caFolder)
        var certificateNames = ["localhost", "127.0.0.1", "::1"]
        if let domain = topology.ingress.domain, !certificateNames.contains(domain) { certificateNames.insert(domain, at: 0) }
        let names = certificateNames
        let tls = options.tls != nil
        let health = HealthProbe(kind: .http, port: httpPort, path: NginxConfig.healthPath)
        let httpsProbe = HealthProbe(kind: .tcp, port: httpsPort)
        let routed = topology.services.filter { !$0.routes.isEmpty }.flatMap { context.replicaNames[$0.name] ?? [] }
        return ComponentSpec(
            name: "nginx", kind: .nginx, group: "nginx", port: tls ? httpsPort : httpPort,
            ports: tls ? ["http": httpPort, "https": httpsPort] : ["http": httpPort],
            dependencies: routed,
            launch: LaunchSpec(
                executable: nginx, arguments: ["-p", prefix.path + "/", "-e", "stderr", "-c", "nginx.conf", "-g", "daemon off;"],
                workingDirectory: prefix, logFile: context.layout.log("nginx"),
                // SIGTERM is nginx's fast shutdown: WebSockets would hold a graceful one open.
                // On the supervisor's death too: a killed master leaves its workers running.
                stopSignal: SIGTERM, deathSignal: SIGTERM
            ),
            health: health, timeout: context.configuration.infrastructureTimeout,
            logFiles: [context.layout.log("nginx"), context.layout.log("nginx-access")],
            prepare: {
                let manager = FileManager.default
                try manager.createDirectory(at: prefix.appendingPathComponent("logs"), withIntermediateDirectories: true)
                if tls { try await ca.issueCertificate(for: names, into: prefix.appendingPathComponent("certs")) }
                try configuration.write(to: prefix.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
            },
            readiness: {
                let answer = await health.check()
                guard answer.healthy, tls else { return answer }
                return await httpsProbe.check()
            }
        )
    }
}
