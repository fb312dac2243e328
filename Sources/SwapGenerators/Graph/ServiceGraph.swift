import SwapTopology

// Under construction.
public enum ServiceGraph {
    public static func mermaid(_ topology: Topology) -> String { "" }
    public static func dot(_ topology: Topology) -> String { "" }
    public static func svg(_ topology: Topology) -> String { "" }
}
