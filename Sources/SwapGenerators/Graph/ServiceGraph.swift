import SwapTopology

/// The service graph of one environment in three notations, for
/// `swapctl graph` and for the generated `topology.mmd` / `topology.svg`.
public enum ServiceGraph {
    /// A Mermaid flowchart, left to right.
    public static func mermaid(_ topology: Topology) -> String {
        MermaidWriter.write(GraphModel(topology), notice: nil)
    }

    /// Graphviz DOT, left to right.
    public static func dot(_ topology: Topology) -> String {
        DotWriter.write(GraphModel(topology))
    }

    /// A standalone SVG with its own layered layout (no Graphviz needed).
    public static func svg(_ topology: Topology) -> String {
        SVGWriter.write(GraphModel(topology), notice: nil)
    }
}
