import ArgumentParser
import Foundation
import SwapGenerators
import SwapTopology

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Compile the topology into generated/ and .github/workflows/.",
        discussion: "With --check nothing is written; the command exits 1 listing every file that differs."
    )

    @OptionGroup var options: TopologyOptions

    @Option(help: "An environment, or 'all' for every environment plus the project-wide files.")
    var env: String = "all"

    @Option(help: "Write everything under this folder instead (workflows as DIR/.github/workflows).")
    var output: String?

    @Flag(help: "Write nothing; exit 1 listing every file that differs from what would be generated.")
    var check = false

    func run() throws {
        let loader = TopologyLoader(topologyPath: options.topology)
        let environments = env == "all" ? loader.environments() : [env]
        var topologies: [Topology] = []
        var diagnostics: [Diagnostic] = []
        for environment in environments {
            let result = loader.load(environment: environment)
            diagnostics += result.diagnostics.filter { !diagnostics.contains($0) }
            if let topology = result.topology { topologies.append(topology) }
        }
        Console.report(diagnostics)
        if diagnostics.contains(where: { $0.severity == .error }) || topologies.isEmpty { throw CommandFailure.topology() }

        let rendered = env == "all"
            ? GenerationPipeline.render(topologies)
            : GenerationPipeline.renderEnvironment(topologies[0])
        // Notes explain a fresh generation; a drift check only needs the verdict.
        if !check { for note in rendered.notes { Console.error(note.description) } }

        let layout = OutputLayout(root: loader.root, output: output.map { URL(fileURLWithPath: $0) })
        let owned = env == "all" ? layout.ownedFolders : [layout.generatedFolder.appendingPathComponent(env)]
        if check {
            let drift = FileSync.differences(rendered.files, layout: layout, owned: owned)
            if !drift.isEmpty {
                for line in drift { Console.error(line) }
                throw CommandFailure.topology("generated files are out of date: run `swapctl generate --env \(env)`")
            }
            print("generated files are up to date (\(rendered.files.count) files)")
        } else {
            let summary = try FileSync.write(rendered.files, layout: layout, owned: owned)
            print(summary)
        }
    }
}
