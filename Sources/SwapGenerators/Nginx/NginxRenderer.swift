import SwapTopology

/// `<env>/nginx/nginx.conf` for every target, plus `<env>/nginx/bootstrap.conf`
/// where certificates come from Let's Encrypt. Docker targets get the
/// official image's paths and Docker DNS names; `local` gets Debian's nginx,
/// 127.0.0.1 with each replica at its service's port + i, and paths relative
/// to the prefix (`swapctl up` renders it again with the ports it picked).
public struct NginxRenderer: EnvironmentRenderer {
    public init() {}

    public var targets: Set<DeploymentTarget> { [.processes, .compose, .swarm] }

    public func render(_ topology: Topology) -> RenderOutput {
        let options = Self.options(for: topology)
        let folder = "\(topology.environment)/nginx"
        var output = RenderOutput(files: [GeneratedFile(path: "\(folder)/nginx.conf", contents: NginxConfig.render(topology, options))])
        if topology.ingress.tls == .letsencrypt {
            output.files.append(GeneratedFile(path: "\(folder)/bootstrap.conf", contents: NginxConfig.renderBootstrap(topology, options)))
            let live = NginxOptions.letsencryptFolder(topology.ingress.domain ?? "localhost")
            output.notes.append(GenerationNote(
                environment: topology.environment,
                message: "nginx needs \(live)/fullchain.pem before it starts: serve nginx/bootstrap.conf (HTTP only) "
                    + "until `certbot certonly --webroot -w \(NginxOptions.dockerACMEWebroot)` has issued it, then nginx.conf"
            ))
        }
        if topology.ingress.replicas > 1 {
            let limit = topology.ingress.rateLimit
            output.notes.append(GenerationNote(
                environment: topology.environment,
                message: "ingress.rate_limit (\(limit.rps) r/s, burst \(limit.burst)) is kept by each of the "
                    + "\(topology.ingress.replicas) nginx replicas on its own: a client spread over them may get up to "
                    + "\(topology.ingress.replicas) times as much"
            ))
        }
        return output
    }

    /// The options the committed files are rendered with.
    public static func options(for topology: Topology) -> NginxOptions {
        topology.target == .processes ? .local(topology) : .docker(topology)
    }
}
