import ArgumentParser
import Foundation
import SwapHarness

/// `swapctl e2e`: boots the stack (detached) unless one runs, runs the
/// `swap-e2e` suite against its nginx HTTPS endpoint, stops what it booted.
struct E2ECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "Prove the running platform end to end: boot the stack unless it runs, run the swap-e2e scenarios through nginx, tear down what was booted.",
        discussion: """
        The suite talks only to nginx (HTTPS, verified with the local CA; the HTTP port for the redirect check) and \
        injects faults by signalling the pids in .swap/state.json and with `swapctl stop|start`. Exits with the suite's code: 0 when every \
        scenario passed, 1 otherwise. swap-e2e is taken from beside swapctl, else built with `swift build --product swap-e2e`.
        """
    )

    @OptionGroup var options: TopologyOptions

    @Option(help: "The environment to boot.")
    var env: String = "local"

    @Option(help: "Run only the scenarios whose name contains this (repeatable).")
    var filter: [String] = []

    @Option(help: "Write a JUnit XML report to this file.")
    var junit: String?

    @Flag(help: "Do not build the service products before booting.")
    var noBuild = false

    @Flag(help: "Leave a stack this command booted running afterwards.")
    var keep = false

    func run() throws {
        StandardOutput.useLineBuffering()
        let folder = HarnessCLI.stateFolder(topology: options.topology)
        let root = folder.deletingLastPathComponent()
        let swapctl = HarnessCLI.executablePath()
        var booted = false
        if !StackControl.isRunning(folder) {
            var arguments = ["up", "--detach", "--env", env, "--topology", options.topology]
            if noBuild { arguments.append("--no-build") }
            print("==> swapctl \(arguments.joined(separator: " "))")
            let status = try Self.runInheriting(swapctl, arguments, in: root)
            guard status == 0 else { throw CommandFailure(code: 1, message: "error: `swapctl up --detach` failed (exit \(status))") }
            booted = true
        } else {
            print("==> using the running stack in \(HarnessCLI.display(folder, root: root))")
        }
        var code: Int32 = 1
        defer {
            if booted && !keep {
                print("==> swapctl down")
                _ = try? Self.runInheriting(swapctl, ["down", "--topology", options.topology], in: root)
            }
        }
        guard let state = StackControl.state(in: folder), let urls = state.urls, let https = urls.https, let ca = urls.caFile else {
            throw CommandFailure(code: 1, message: "error: the stack in \(folder.path) has no HTTPS URL and CA file (ingress.tls must be on)")
        }
        let suite = try Self.suiteBinary(beside: swapctl, root: root)
        var arguments = ["--base-url", https, "--ca-file", ca, "--state-file", folder.appendingPathComponent("state.json").path,
                         "--swapctl", swapctl, "--topology", URL(fileURLWithPath: options.topology).standardizedFileURL.path]
        for name in filter { arguments += ["--filter", name] }
        if let junit { arguments += ["--junit", URL(fileURLWithPath: junit, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).path] }
        print("==> swap-e2e against \(https)")
        code = try Self.runInheriting(suite, arguments, in: root)
        if code != 0 { throw CommandFailure(code: code == 2 ? 2 : 1, message: "") }
    }

    /// swap-e2e beside swapctl, else `swift build --product swap-e2e`.
    private static func suiteBinary(beside swapctl: String, root: URL) throws -> String {
        let beside = URL(fileURLWithPath: swapctl).deletingLastPathComponent().appendingPathComponent("swap-e2e").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        print("==> swift build --product swap-e2e")
        let status = try runInheriting("/usr/bin/env", ["swift", "build", "--product", "swap-e2e"], in: root)
        guard status == 0 else { throw CommandFailure(code: 1, message: "error: building swap-e2e failed") }
        let built = root.appendingPathComponent(".build/debug/swap-e2e").path
        guard FileManager.default.isExecutableFile(atPath: built) else { throw CommandFailure(code: 1, message: "error: no \(built) after the build") }
        return built
    }

    /// Runs a program with this process's output; returns its exit status.
    private static func runInheriting(_ executable: String, _ arguments: [String], in directory: URL) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        try process.run()
        process.waitUntilExit()
        return process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
    }
}
