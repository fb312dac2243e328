import ArgumentParser
import SwapTopology

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check topology.yaml with one environment overlay, or with each in turn."
    )

    @OptionGroup var options: TopologyOptions

    @Option(help: "The environment to validate (default: every environments/*.yaml).")
    var env: String?

    func run() throws {
        let loader = TopologyLoader(topologyPath: options.topology)
        let result = env.map { loader.load(environment: $0) } ?? loader.loadAll()
        Console.report(result.diagnostics)
        if result.hasErrors { throw CommandFailure.topology() }
    }
}
