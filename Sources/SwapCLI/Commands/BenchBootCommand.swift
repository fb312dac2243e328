import ArgumentParser
import Foundation
import SwapHarness

extension BenchCommand {
    struct Boot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cold boot of the stack to all-ready, compilation excluded: each component's start and ready time, and the critical path.",
            discussion: "Every run boots into a fresh temporary state folder (a running `swapctl up` is not disturbed) and is torn down afterwards. Target: under 10 s."
        )

        @OptionGroup var options: TopologyOptions

        @Option(help: "The environment to boot.")
        var env: String = "local"

        @Flag(help: "Boot only PostgreSQL, Redis, the broker and nginx.")
        var infrastructureOnly = false

        @Flag(help: "Do not build the service products first.")
        var noBuild = false

        @Option(help: "Boots to run; each is reported, then the fastest and the median.")
        var runs: Int = 1

        @Option(help: "The target for all-ready, in milliseconds.")
        var target: Int = 10_000

        func run() throws {
            StandardOutput.useLineBuffering()
            guard runs >= 1 else { throw CommandFailure.usage("--runs must be at least 1") }
            let loaded = try HarnessCLI.load(topology: options.topology, environment: env)
            var settings = loaded.configuration
            settings.infrastructureOnly = infrastructureOnly
            let configuration = settings
            let topology = loaded.topology
            let build = !noBuild
            let runs = self.runs
            let target = self.target
            try HarnessCLI.blocking {
                if build {
                    try await ProductBuilder.build(ProductBuilder.products(for: topology, configuration: configuration), in: configuration.root)
                }
                var totals: [Int] = []
                for run in 1...runs {
                    var scratch = configuration
                    scratch.stateFolder = FileManager.default.temporaryDirectory
                        .appendingPathComponent("swapctl-bench-boot-\(getpid())-\(run)", isDirectory: true)
                    let supervisor: Supervisor
                    do {
                        supervisor = try await Supervisor.up(scratch, topology: topology)
                    } catch {
                        try? FileManager.default.removeItem(at: scratch.stateFolder)
                        throw CommandFailure(code: 1, message: "error: run \(run): \(error)")
                    }
                    let report = BootReport(await supervisor.snapshot)
                    await supervisor.down()
                    totals.append(report.totalMilliseconds)
                    print("run \(run) of \(runs)\(scratch.infrastructureOnly ? " (infrastructure only)" : ""):")
                    for line in report.lines { print("  " + line) }
                }
                let sorted = totals.sorted()
                let best = sorted[0]
                let median = sorted[sorted.count / 2]
                print("cold boot to all ready: fastest \(best) ms, median \(median) ms over \(runs) run(s); target \(target) ms: \(median <= target ? "met" : "MISSED")")
            }
        }
    }
}
