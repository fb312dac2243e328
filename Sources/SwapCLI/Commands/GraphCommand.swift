import ArgumentParser
import SwapGenerators
import SwapTopology

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Print the service graph (services, datastores, brokers, topics)."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case mermaid, dot, svg
    }

    @OptionGroup var options: TopologyOptions

    @Option(help: "mermaid, dot or svg.")
    var format: Format = .mermaid

    @Option(help: "The environment whose graph to print.")
    var env: String = "prod"

    func run() throws {
        let result = TopologyLoader(topologyPath: options.topology).load(environment: env)
        Console.report(result.diagnostics)
        guard let topology = result.topology, !result.hasErrors else { throw CommandFailure.topology() }
        switch format {
        case .mermaid: print(ServiceGraph.mermaid(topology), terminator: "")
        case .dot: print(ServiceGraph.dot(topology), terminator: "")
        case .svg: print(ServiceGraph.svg(topology), terminator: "")
        }
    }
}
