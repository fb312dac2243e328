import ArgumentParser
import Foundation
import SwapGenerators
import SwapTopology

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print figures and ratios against a baseline run in the same process.",
        subcommands: [Generate.self, Boot.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load, validate and generate every environment of synthetic topologies; time per service must stay flat (linear growth)."
        )

        @Option(help: "The largest topology, in services.")
        var services: Int = 1000

        @Option(help: "Runs per size; the fastest is reported.")
        var runs: Int = 3

        func run() throws {
            guard services >= 8, runs >= 1 else { throw CommandFailure.usage("--services must be at least 8 and --runs at least 1") }
            let sizes = [services / 8, services / 4, services / 2, services]
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swapctl-bench-\(ProcessInfo.processInfo.processIdentifier)")
            defer { try? FileManager.default.removeItem(at: folder) }
            print("services   total ms   ms/service   ratio to \(sizes[0])-service baseline (per service)   stages (ms)")
            var baseline: Double?
            for size in sizes {
                try SyntheticTopology.write(services: size, to: folder)
                var best: Timing?
                for _ in 0..<runs {
                    let timing = try generateAll(folder)
                    if best == nil || timing.total < best!.total { best = timing }
                }
                guard let best else { continue }
                let perService = best.total / Double(size)
                let ratio = baseline.map { perService / $0 } ?? 1
                if baseline == nil { baseline = perService }
                let stages = best.stages.map { String(format: "%@ %.0f", $0.name, $0.milliseconds) }.joined(separator: ", ")
                print(String(format: "%8d %10.1f %12.3f   %.2fx   (%d files)   ", size, best.total, perService, ratio, best.files) + stages)
            }
        }

        struct Timing {
            var stages: [(name: String, milliseconds: Double)] = []
            var files = 0
            var total: Double { stages.reduce(0) { $0 + $1.milliseconds } }

            mutating func measure<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
                let start = ContinuousClock.now
                let value = try body()
                let elapsed = ContinuousClock.now - start
                let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                if let index = stages.firstIndex(where: { $0.name == name }) {
                    stages[index].milliseconds += milliseconds
                } else {
                    stages.append((name, milliseconds))
                }
                return value
            }
        }

        /// Loads and validates every environment, then runs each renderer, timing each stage.
        private func generateAll(_ folder: URL) throws -> Timing {
            var timing = Timing()
            let loader = TopologyLoader(topologyPath: folder.appendingPathComponent("topology.yaml").path)
            var topologies: [Topology] = []
            for environment in loader.environments() {
                let result = timing.measure("load") { loader.load(environment: environment) }
                guard let topology = result.topology, !result.hasErrors else {
                    Console.report(result.diagnostics)
                    throw CommandFailure.topology("the synthetic topology does not validate")
                }
                topologies.append(topology)
            }
            for topology in topologies {
                for renderer in GenerationPipeline.environmentRenderers where renderer.targets.contains(topology.target) {
                    timing.files += timing.measure(String(describing: type(of: renderer))) { renderer.render(topology).files.count }
                }
            }
            for renderer in GenerationPipeline.projectRenderers {
                timing.files += timing.measure(String(describing: type(of: renderer))) { renderer.render(topologies).files.count }
            }
            return timing
        }
    }
}

/// A valid topology of N services in the Swap shape, with the four environments.
enum SyntheticTopology {
    static func write(services count: Int, to folder: URL) throws {
        let manager = FileManager.default
        try? manager.removeItem(at: folder)
        try manager.createDirectory(at: folder.appendingPathComponent("environments"), withIntermediateDirectories: true)
        var yaml = """
        version: 1
        project: bench
        registry: ghcr.io/bench/bench
        ingress: {domain: localhost, tls: self-signed, rate_limit: {rps: 20, burst: 40}, max_body: 10m}
        services:

        """
        for index in 0..<count {
            let name = "svc\(index)"
            let dependency = index > 0 ? "[svc\(index - 1)]" : "[]"
            yaml += """
              \(name):
                product: \(name)
                port: \(10_000 + index)
                replicas: \(index % 3 + 1)
                routes: [{path: /api/v1/\(name)/}]
                depends_on: \(dependency)
                uses: [main, cache, events]
                produces: [events.\(index % 10)]
                consumes: [events.\((index + 1) % 10)]
                secrets: [jwt_secret]
                settings: {limit: {per_minute: 60}}

            """
        }
        yaml += """
        datastores:
          main: {engine: postgres, version: "15", extensions: [postgis], backup: {schedule: "0 3 * * *", retention_days: 14}}
          cache: {engine: redis, version: "7", persistence: aof, maxmemory: 256mb}
        brokers:
          events:
            engine: kafka
            nodes: 3
            topics:

        """
        for topic in 0..<10 { yaml += "      events.\(topic): {partitions: 6, replication: 3}\n" }
        yaml += """
        secrets:
          jwt_secret: {generate: hex32}
          db_password: {generate: alnum24}
          grafana_admin_password: {generate: alnum24}
          backup_s3_access_key: {}
          backup_s3_secret_key: {}

        """
        try yaml.write(to: folder.appendingPathComponent("topology.yaml"), atomically: true, encoding: .utf8)
        let environments = [
            "local": "target: processes\n",
            "dev": "target: compose\n",
            "staging": "target: swarm\ningress: {domain: staging.example.com, tls: letsencrypt, acme_email: ops@example.com}\n",
            "prod": "target: swarm\ningress: {domain: example.com, tls: letsencrypt, acme_email: ops@example.com}\nbrokers: {events: {min_insync: 2}}\n",
        ]
        for (name, text) in environments {
            try text.write(to: folder.appendingPathComponent("environments/\(name).yaml"), atomically: true, encoding: .utf8)
        }
    }
}
