import SwapTopology

/// `topology.mmd` and `topology.svg`: the service graph of production (the
/// environment named prod, else the last swarm one, else the last one).
public struct GraphRenderer: ProjectRenderer {
    public init() {}

    public func render(_ environments: [Topology]) -> RenderOutput {
        guard let topology = Self.graphed(environments) else { return RenderOutput() }
        let graph = GraphModel(topology)
        return RenderOutput(files: [
            GeneratedFile(path: "topology.mmd", contents: MermaidWriter.write(graph, notice: GeneratedHeader.text)),
            GeneratedFile(path: "topology.svg", contents: SVGWriter.write(graph, notice: GeneratedHeader.text)),
        ])
    }

    static func graphed(_ environments: [Topology]) -> Topology? {
        environments.first { $0.environment == "prod" }
            ?? environments.last { $0.target == .swarm }
            ?? environments.last
    }
}
