import Foundation
import SwapGenerators
import SwapTopology

/// How `swapctl up` (or a test) boots a stack.
public struct HarnessConfiguration: Sendable {
    /// The folder holding topology.yaml; the package root for builds.
    public var root: URL
    public var environment: String
    /// Everything of one run: state.json, logs, data, secrets, nginx prefix. `down` removes it.
    public var stateFolder: URL
    /// The local CA (kept outside the state folder so it survives `down`).
    public var caFolder: URL
    /// Only PostgreSQL, Redis, the broker and nginx: no service processes.
    public var infrastructureOnly = false
    /// The command that runs a product instead of `<binFolder>/<product>`, by
    /// product name (tests run stand-ins; see ``productCommands(from:)``).
    public var productCommands: [String: [String]] = [:]
    /// Where built products live.
    public var binFolder: URL
    /// PostgreSQL's `initdb`, `postgres`, `pg_isready`, `psql`.
    public var postgresBinFolder: String
    /// The Tansu binary; nil finds it like LocalServers does (`$SWAP_TANSU`, `.tools/bin`, PATH).
    public var tansu: String?
    /// How long each infrastructure component may take to become ready.
    public var infrastructureTimeout: Duration = .seconds(60)
    /// How long each service replica may take; nil: max(30 s, 2 × its health start_period).
    public var serviceTimeout: Duration?
    /// After the stop signal, how long before SIGKILL.
    public var stopGracePeriod: Duration = .seconds(10)
    public var restart = RestartPolicy()
    /// Extra variables for every service process (after the topology's).
    public var serviceEnvironment: [String: String] = [:]
    /// Recorded in state.json: a detached supervisor runs without a terminal.
    public var detached = false

    public init(topologyPath: String, environment: String = "local") {
        let file = URL(fileURLWithPath: topologyPath).standardizedFileURL
        let root = file.deletingLastPathComponent()
        self.root = root
        self.environment = environment
        self.stateFolder = Self.defaultStateFolder(root: root)
        self.caFolder = LocalCA.defaultFolder()
        self.binFolder = root.appendingPathComponent(".build/debug")
        let environment = ProcessInfo.processInfo.environment
        self.postgresBinFolder = environment["SWAP_PG_BINDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/lib/postgresql/15/bin"
        if let bin = environment["SWAP_BIN_PATH"], !bin.isEmpty { self.binFolder = URL(fileURLWithPath: bin) }
        self.productCommands = Self.productCommands(from: environment)
    }

    /// `.swap/` beside topology.yaml (git-ignored).
    public static func defaultStateFolder(root: URL) -> URL {
        root.appendingPathComponent(".swap", isDirectory: true)
    }

    /// `SWAP_PRODUCT_<PRODUCT>_COMMAND="python3 fake.py"` runs that shell
    /// command (through `sh -c 'exec …'`, so the pid is the program's) in
    /// place of the built product; `<PRODUCT>` is the product name upper-cased
    /// with non-alphanumerics as `_` (`FINANCIAL_SERVICE`).
    public static func productCommands(from environment: [String: String]) -> [String: [String]] {
        var commands: [String: [String]] = [:]
        for (key, value) in environment where key.hasPrefix("SWAP_PRODUCT_") && key.hasSuffix("_COMMAND") && !value.isEmpty {
            let name = String(key.dropFirst("SWAP_PRODUCT_".count).dropLast("_COMMAND".count))
            commands[name] = ["/bin/sh", "-c", "exec \(value)"]
        }
        return commands
    }

    /// The override for a product, by its exact name or its environment-style name.
    func command(forProduct product: String) -> [String]? {
        productCommands[product] ?? productCommands[ServiceEnvironment.environmentName(product)]
    }

    func timeout(for service: Service) -> Duration {
        serviceTimeout ?? max(.seconds(30), service.health.startPeriod * 2)
    }
}

/// Restarts of a crashed process, as the generated compose (`unless-stopped`)
/// and Swarm files do: exponential back-off, reset after a healthy run.
public struct RestartPolicy: Sendable {
    public var enabled = true
    public var initialDelay: Duration = .milliseconds(250)
    public var maximumDelay: Duration = .seconds(30)
    /// A process that ran this long before crashing starts over at ``initialDelay``.
    public var resetAfter: Duration = .seconds(30)

    public init() {}

    /// The delay before restart number `attempt` (0-based) of a crash loop.
    public func delay(attempt: Int) -> Duration {
        let factor = 1 << min(attempt, 16)
        return min(initialDelay * factor, maximumDelay)
    }
}

/// The files of one run inside the state folder.
struct StateLayout: Sendable {
    let folder: URL

    var stateFile: URL { folder.appendingPathComponent("state.json") }
    var lockFile: URL { folder.appendingPathComponent("supervisor.lock") }
    var logs: URL { folder.appendingPathComponent("logs", isDirectory: true) }
    var secrets: URL { folder.appendingPathComponent("secrets", isDirectory: true) }
    /// The supervisor's own output (a detached one has no terminal).
    var supervisorLog: URL { logs.appendingPathComponent("swapctl.log") }

    func data(_ component: String) -> URL { folder.appendingPathComponent(component, isDirectory: true) }
    func log(_ component: String) -> URL { logs.appendingPathComponent("\(component).log") }
    /// Present while `swapctl stop` holds a component down.
    var held: URL { folder.appendingPathComponent("held", isDirectory: true) }
    func heldMarker(_ component: String) -> URL { held.appendingPathComponent(component) }
}
