import ArgumentParser
import Foundation
import SwapHarness

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Show the logs of every process of the stack, or of one component or service, each line prefixed with its name."
    )

    @OptionGroup var options: TopologyOptions

    @Argument(help: "A component (realtime.1), a service (realtime: all its replicas), a kind (postgres) or swapctl.")
    var service: String?

    @Flag(name: .shortAndLong, help: "Keep printing new lines as they are written (until Ctrl-C or `swapctl down`).")
    var follow = false

    @Option(help: "Only the last N lines of each log at first.")
    var tail: Int?

    @Flag(help: "No colours, even on a terminal.")
    var noColor = false

    func run() throws {
        StandardOutput.useLineBuffering()
        if let tail, tail < 0 { throw CommandFailure.usage("--tail must not be negative") }
        let folder = HarnessCLI.stateFolder(topology: options.topology)
        let sources: [LogStreams.Source]
        do {
            sources = try LogStreams.sources(in: folder, matching: service)
        } catch {
            throw CommandFailure(code: 1, message: "error: \(error)")
        }
        let color = !noColor && isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        let palette = ["36", "33", "32", "35", "34", "96", "93", "92", "95", "94"]
        let width = sources.map(\.name.count).max() ?? 0
        var prefixes: [String: String] = [:]
        for (index, source) in sources.enumerated() {
            let name = source.name.padding(toLength: width, withPad: " ", startingAt: 0)
            prefixes[source.name] = color ? "\u{1B}[\(palette[index % palette.count])m\(name) |\u{1B}[0m " : "\(name) | "
        }
        let tail = self.tail
        let follow = self.follow
        let frozen = prefixes
        try HarnessCLI.blocking {
            await LogStreams.stream(sources, folder: folder, tail: tail, follow: follow) { source, line in
                print((frozen[source] ?? "") + line)
            }
        }
    }
}
