import SwapTopology

/// `.github/workflows/ci.yml` and `deploy.yml`: the only generated files that
/// live outside generated/, because GitHub reads workflows only there.
public struct WorkflowsRenderer: ProjectRenderer {
    public init() {}

    public func render(_ environments: [Topology]) -> RenderOutput {
        guard !environments.isEmpty else { return RenderOutput() }
        var notes: [GenerationNote] = []
        let targets = DeployWorkflow.targets(environments)
        if targets.isEmpty {
            notes.append(GenerationNote(
                environment: "workflows",
                message: "no environment has target swarm: deploy.yml only builds and pushes the images"
            ))
        }
        return RenderOutput(
            files: [
                GeneratedFile(path: ".github/workflows/ci.yml", contents: CIWorkflow.render()),
                GeneratedFile(path: ".github/workflows/deploy.yml", contents: DeployWorkflow.render(environments)),
            ],
            notes: notes
        )
    }
}
