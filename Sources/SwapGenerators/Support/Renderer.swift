import SwapTopology

/// A pure renderer for one environment: topology in, files and notes out.
public protocol EnvironmentRenderer: Sendable {
    /// The targets this renderer produces files for.
    var targets: Set<DeploymentTarget> { get }
    func render(_ topology: Topology) -> RenderOutput
}

/// A pure renderer over every environment at once (Dockerfile, workflows, graph).
public protocol ProjectRenderer: Sendable {
    func render(_ environments: [Topology]) -> RenderOutput
}

/// Runs every renderer over validated environments: the `generate` stage of
/// the pipeline. Writing, diffing and checking happen in the CLI.
public enum GenerationPipeline {
    public static let environmentRenderers: [any EnvironmentRenderer] = [
        ComposeRenderer(),
        SwarmStackRenderer(),
        NginxRenderer(),
        MonitoringRenderer(),
        KafkaTopicsRenderer(),
        ScriptsRenderer(),
        ProvisioningRenderer(),
    ]

    public static let projectRenderers: [any ProjectRenderer] = [
        DockerfileRenderer(),
        WorkflowsRenderer(),
        GraphRenderer(),
    ]

    /// Files sorted by path, so output is byte-identical for the same input.
    public static func render(_ environments: [Topology]) -> RenderOutput {
        var output = RenderOutput()
        for topology in environments {
            for renderer in environmentRenderers where renderer.targets.contains(topology.target) {
                output.append(renderer.render(topology))
            }
        }
        for renderer in projectRenderers { output.append(renderer.render(environments)) }
        output.files.sort { $0.path < $1.path }
        return output
    }

    /// One environment's own files, without the project-wide ones.
    public static func renderEnvironment(_ topology: Topology) -> RenderOutput {
        var output = RenderOutput()
        for renderer in environmentRenderers where renderer.targets.contains(topology.target) {
            output.append(renderer.render(topology))
        }
        output.files.sort { $0.path < $1.path }
        return output
    }
}
