import Foundation
import Logging

/// A throwaway Kafka-compatible broker: Tansu with memory storage, listening
/// and advertising 127.0.0.1 on a free port.
///
/// Tansu keeps topics in memory, so a restart starts empty; simulate an
/// outage with ``pause()`` / ``resume()`` instead.
public final class KafkaBroker: LocalServer {
    /// How to start the broker.
    public struct Options: Sendable {
        /// The `tansu` binary; see ``KafkaBroker/locateTansu(packageRoot:)`` when nil.
        public var executable: String?
        /// How long to wait for the port to accept connections.
        public var startTimeout: Duration = .seconds(30)
        /// Tansu's cluster id.
        public var clusterID = "swap-local"

        public init() {}
    }

    /// Always 127.0.0.1.
    public let host = "127.0.0.1"
    /// The listener port.
    public let port: Int
    /// The state folder: `tansu.log`.
    public let directory: URL
    private let executable: String
    private let options: Options
    private let slot = ProcessSlot()

    private init(port: Int, directory: URL, executable: String, options: Options) {
        self.port = port
        self.directory = directory
        self.executable = executable
        self.options = options
    }

    /// `127.0.0.1:PORT`, for `bootstrap.servers`.
    public var bootstrapServers: String { "\(self.host):\(self.port)" }

    /// The running broker process.
    public var process: ChildProcess? { self.slot.process }

    /// Finds Tansu: `$SWAP_TANSU`, then `.tools/bin/tansu` under the package
    /// root (given, or found above the working directory or this source
    /// file), then PATH.
    public static func locateTansu(packageRoot: URL? = nil) throws(LocalServerError) -> String {
        var searched: [String] = []
        if let fromEnvironment = ProcessInfo.processInfo.environment["SWAP_TANSU"], !fromEnvironment.isEmpty {
            if FileManager.default.isExecutableFile(atPath: fromEnvironment) { return fromEnvironment }
            searched.append("$SWAP_TANSU=\(fromEnvironment)")
        }
        let roots = [packageRoot, PackageRoot.above(URL(fileURLWithPath: FileManager.default.currentDirectoryPath)),
                     PackageRoot.above(URL(fileURLWithPath: #filePath))].compactMap { $0 }
        for root in roots {
            let candidate = root.appendingPathComponent(".tools/bin/tansu").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            searched.append(candidate)
        }
        if let onPath = Executable.find("tansu") { return onPath }
        throw .executableNotFound(name: "tansu", searched: searched + ["PATH"])
    }

    /// Starts the broker and waits until its port accepts connections.
    public static func start(_ options: Options = Options(), logger: Logger = Logger(label: "swap.local.kafka")) async throws -> KafkaBroker {
        let executable = try options.executable ?? locateTansu()
        let directory = try StateDirectory.create(prefix: "kafka")
        do {
            let broker = try await onFreePort { port in
                let broker = KafkaBroker(port: port, directory: directory, executable: executable, options: options)
                try await broker.launch()
                return broker
            }
            logger.debug("tansu ready", metadata: ["port": "\(broker.port)"])
            return broker
        } catch {
            StateDirectory.remove(directory)
            throw error
        }
    }

    private func launch() async throws {
        let listener = "tcp://\(host):\(port)"
        let process = try ChildProcess.launch(
            name: "tansu", executable: executable,
            arguments: [
                "broker", "--cluster-id", options.clusterID, "--listener-url", listener,
                "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/",
            ],
            workingDirectory: directory, logFile: directory.appendingPathComponent("tansu.log")
        )
        slot.hold(process)
        let port = self.port
        do {
            try await waitUntilReady(process, timeout: options.startTimeout) {
                ListenerOwner.isListening(port: port, pid: process.processIdentifier)
            }
        } catch {
            await slot.stop(gracePeriod: .seconds(5))
            throw error
        }
    }

    /// Freezes the broker (SIGSTOP): clients see an unresponsive broker.
    public func pause() {
        self.process?.pause()
    }

    /// Thaws a paused broker (SIGCONT).
    public func resume() {
        self.process?.resume()
    }

    /// Stops the broker and removes its folder. Safe to call twice.
    public func stop() async {
        await self.slot.stop(gracePeriod: .seconds(10))
        StateDirectory.remove(self.directory)
    }
}

/// Runs `body` with a fresh broker and always stops it afterwards.
public func withKafkaBroker<Value>(
    _ options: KafkaBroker.Options = KafkaBroker.Options(),
    logger: Logger = Logger(label: "swap.local.kafka"),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (KafkaBroker) async throws -> Value
) async throws -> Value {
    try await withStopping(try await KafkaBroker.start(options, logger: logger), body)
}

enum PackageRoot {
    /// The nearest folder at or above `url` holding a Package.swift.
    static func above(_ url: URL) -> URL? {
        var folder = url.hasDirectoryPath ? url : url.deletingLastPathComponent()
        while folder.path != "/" {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
                return folder
            }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }
}
