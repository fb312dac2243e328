import ArgumentParser
import Foundation
import Synchronization
import SwapHarness
import SwapTopology

struct UpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Boot the stack natively: PostgreSQL, Redis, the broker, every service and nginx with TLS; print the URL.",
        discussion: """
        Builds the service products first (skip with --no-build). In the foreground, Ctrl-C stops everything \
        in reverse order; with --detach the stack keeps running in the background until `swapctl down`. \
        State (pids, ports, logs, data, secrets) lives in .swap/ beside the topology; the local CA that signs \
        nginx's certificate lives in ~/.local/share/swapctl/ca (SWAP_CA_DIR) and survives `down`. \
        Products run from .build/debug (SWAP_BIN_PATH); SWAP_PRODUCT_<PRODUCT>_COMMAND runs a shell command instead \
        (e.g. SWAP_PRODUCT_FINANCIAL_SERVICE_COMMAND).
        """
    )

    @OptionGroup var options: TopologyOptions

    @Option(help: "The environment to boot.")
    var env: String = "local"

    @Flag(help: "Return once the stack is ready and leave it running in the background.")
    var detach = false

    @Flag(help: "Do not run `swift build --product` for the services first.")
    var noBuild = false

    @Flag(help: "Boot only PostgreSQL, Redis, the broker and nginx.")
    var infrastructureOnly = false

    @Flag(help: .hidden)
    var supervise = false

    @Option(help: .hidden)
    var bootID: String?

    func run() throws {
        // Progress lines and prints interleave in order, also into a file or pipe.
        StandardOutput.useLineBuffering()
        let loaded = try HarnessCLI.load(topology: options.topology, environment: env)
        var settings = loaded.configuration
        settings.infrastructureOnly = infrastructureOnly
        settings.detached = detach || supervise
        let configuration = settings
        let topology = loaded.topology
        if supervise {
            let bootID = self.bootID ?? UUID().uuidString
            try HarnessCLI.blocking { try await Self.supervise(configuration, topology: topology, bootID: bootID) }
            return
        }
        if StackControl.isRunning(configuration.stateFolder) {
            throw CommandFailure(code: 1, message: "error: \(HarnessCLI.alreadyRunning(configuration.stateFolder))")
        }
        if topology.target != .processes {
            Console.error("note: environment '\(env)' targets \(topology.target.rawValue); booting it as native processes anyway")
        }
        let build = !noBuild
        let detach = self.detach
        let topologyPath = URL(fileURLWithPath: options.topology).standardizedFileURL.path
        let environment = env
        let infrastructureOnly = self.infrastructureOnly
        try HarnessCLI.blocking {
            if build {
                try await ProductBuilder.build(ProductBuilder.products(for: topology, configuration: configuration), in: configuration.root)
            }
            if detach {
                var arguments = ["up", "--supervise", "--boot-id", UUID().uuidString, "--env", environment, "--topology", topologyPath, "--no-build"]
                if infrastructureOnly { arguments.append("--infrastructure-only") }
                try await Self.detached(configuration, arguments: arguments)
            } else {
                try await Self.foreground(configuration, topology: topology)
            }
        }
    }

    /// Boots in this process, shows progress, then runs until SIGINT/SIGTERM.
    private static func foreground(_ configuration: HarnessConfiguration, topology: Topology) async throws {
        let board = ProgressBoard()
        print("Booting \(topology.project) (\(topology.environment)) as native processes; state in \(HarnessCLI.display(configuration.stateFolder, root: configuration.root))")
        let signals = SignalCounter()
        let boot = Task {
            try await Supervisor.up(configuration, topology: topology) { event in
                switch event {
                case .updated(let state): board.show(state)
                case .message(let text): board.message(text)
                }
            }
        }
        SignalTrap.install { number in
            guard number != SIGHUP else { return }
            switch signals.record() {
            case 1:
                board.message("\(number == SIGINT ? "Ctrl-C" : "SIGTERM"): stopping everything (again to kill at once)")
                boot.cancel()
            default:
                // The parent-death signal stops every child when this process exits.
                signals.supervisor?.forceKill()
                Foundation.exit(130)
            }
        }
        let supervisor: Supervisor
        do {
            supervisor = try await boot.value
        } catch {
            board.finish()
            throw CommandFailure(code: 1, message: "error: \(error)")
        }
        board.finish()
        signals.supervisor = supervisor
        HarnessCLI.printReady(await supervisor.snapshot, root: configuration.root, detached: false)
        while signals.count == 0 { try? await Task.sleep(for: .milliseconds(100)) }
        await supervisor.stop()
        print("Stopped. Logs stay in \(HarnessCLI.display(configuration.stateFolder, root: configuration.root))/logs until `swapctl down`.")
    }

    /// `--supervise`: the background supervisor of a detached `up`; its
    /// output is logs/swapctl.log.
    private static func supervise(_ configuration: HarnessConfiguration, topology: Topology, bootID: String) async throws {
        let board = ProgressBoard(interactive: false, color: false)
        let signals = SignalCounter()
        print("[\(Date())] swapctl supervisor pid \(getpid()) booting \(topology.project) (\(topology.environment))")
        let boot = Task {
            try await Supervisor.up(configuration, topology: topology, bootID: bootID) { event in
                switch event {
                case .updated(let state): board.show(state)
                case .message(let text): board.message("[\(Date())] \(text)")
                }
            }
        }
        SignalTrap.install { number in
            // SIGHUP: no terminal to lose; keep running.
            guard number != SIGHUP else { return }
            if signals.record() == 1 { boot.cancel() } else { Foundation.exit(130) }
        }
        let supervisor: Supervisor
        do {
            supervisor = try await boot.value
        } catch {
            print("[\(Date())] boot failed: \(error)")
            throw CommandFailure(code: 1, message: "")
        }
        print("[\(Date())] ready")
        signals.supervisor = supervisor
        while signals.count == 0 { try? await Task.sleep(for: .milliseconds(100)) }
        print("[\(Date())] stopping")
        await supervisor.stop()
        print("[\(Date())] stopped")
    }

    /// Starts the background supervisor and follows its boot.
    private static func detached(_ configuration: HarnessConfiguration, arguments: [String]) async throws {
        do {
            try StackControl.prepare(configuration.stateFolder)
        } catch {
            throw CommandFailure(code: 1, message: "error: \(error)")
        }
        let bootID = arguments[arguments.firstIndex(of: "--boot-id")! + 1]
        let process = try DetachedBoot.launch(
            swapctl: HarnessCLI.executablePath(), arguments: arguments, stateFolder: configuration.stateFolder,
            workingDirectory: configuration.root
        )
        let signals = SignalCounter()
        SignalTrap.install { number in
            guard number != SIGHUP else { return }
            // Abort the boot: the supervisor stops what it started and exits.
            if signals.record() == 1 { kill(process.processIdentifier, SIGTERM) } else { Foundation.exit(130) }
        }
        let board = ProgressBoard()
        print("Booting in the background (supervisor pid \(process.processIdentifier)); state in \(HarnessCLI.display(configuration.stateFolder, root: configuration.root))")
        do {
            let state = try await DetachedBoot.wait(for: bootID, supervisor: process, stateFolder: configuration.stateFolder) { board.show($0) }
            board.finish()
            HarnessCLI.printReady(state, root: configuration.root, detached: true)
        } catch {
            board.finish()
            throw CommandFailure(code: 1, message: "error: \(error)")
        }
    }
}

/// How many stop signals arrived, and the supervisor once the boot is done.
final class SignalCounter: Sendable {
    private let state = Mutex<(count: Int, supervisor: Supervisor?)>((0, nil))

    var count: Int { state.withLock { $0.count } }

    var supervisor: Supervisor? {
        get { state.withLock { $0.supervisor } }
        set { state.withLock { $0.supervisor = newValue } }
    }

    /// Counts one more signal and returns the new count.
    func record() -> Int {
        state.withLock { state in
            state.count += 1
            return state.count
        }
    }
}

/// What the harness commands share.
enum HarnessCLI {
    struct Loaded {
        var topology: Topology
        var configuration: HarnessConfiguration
    }

    static func load(topology path: String, environment: String) throws -> Loaded {
        let loader = TopologyLoader(topologyPath: path)
        let result = loader.load(environment: environment)
        Console.report(result.diagnostics)
        guard let topology = result.topology, !result.hasErrors else { throw CommandFailure.topology() }
        return Loaded(topology: topology, configuration: HarnessConfiguration(topologyPath: path, environment: environment))
    }

    /// The state folder for `--topology` without loading the topology.
    static func stateFolder(topology path: String) -> URL {
        HarnessConfiguration.defaultStateFolder(root: URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent())
    }

    static func alreadyRunning(_ folder: URL) -> String {
        let state = StackControl.state(in: folder)
        return HarnessError.alreadyRunning(
            stateFolder: folder.path, supervisor: state?.supervisor.pid ?? 0,
            since: state.map { ISO8601DateFormatter().string(from: $0.startedAt) }
        ).description
    }

    /// Runs async work from a synchronous command and returns its result.
    static func blocking(_ body: @escaping @Sendable () async throws -> Void) throws {
        let semaphore = DispatchSemaphore(value: 0)
        let outcome = Mutex<(any Error)?>(nil)
        Task {
            do { try await body() } catch { outcome.withLock { $0 = error } }
            semaphore.signal()
        }
        semaphore.wait()
        if let error = outcome.withLock({ $0 }) { throw error }
    }

    static func printReady(_ state: StackState, root: URL, detached: Bool) {
        let seconds = Double(state.bootMilliseconds ?? 0) / 1000
        print(String(format: "\n%@ is up in %.1f s (%@%@):", state.project, seconds, state.environment, state.infrastructureOnly ? ", infrastructure only" : ""))
        if let urls = state.urls {
            if let https = urls.https {
                print("  \(https)")
                if let ca = urls.caFile {
                    print("  CA certificate: \(ca)")
                    print("  try: curl --cacert \(ca) \(https)/health")
                }
            } else {
                print("  \(urls.http)")
            }
        }
        if detached {
            print("Running in the background (supervisor pid \(state.supervisor.pid)): swapctl status | swapctl logs -f | swapctl down")
        } else {
            print("Logs: swapctl logs -f (in another terminal). Ctrl-C stops everything.")
        }
    }

    static func display(_ url: URL, root: URL) -> String {
        let base = root.standardizedFileURL.path + "/"
        let path = url.standardizedFileURL.path
        if path.hasPrefix(base) { return String(path.dropFirst(base.count)) }
        return path
    }

    /// This program's own path, for the background supervisor.
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if count > 0 { return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return CommandLine.arguments[0]
    }
}
