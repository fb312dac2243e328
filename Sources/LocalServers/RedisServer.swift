import Foundation
import Logging

/// A throwaway `redis-server` bound to 127.0.0.1 on a free port, with its
/// append-only file in a temporary folder (`--appendonly yes`, no RDB
/// snapshots), so data survives ``restart()``.
public final class RedisServer: LocalServer {
    /// How to start the server.
    public struct Options: Sendable {
        /// The `redis-server` binary; found on PATH when nil.
        public var executable: String?
        /// How long to wait for `PING` to answer `PONG`.
        public var startTimeout: Duration = .seconds(30)
        /// Extra `--name value` arguments.
        public var arguments: [String] = []

        public init() {}
    }

    /// Always 127.0.0.1.
    public let host = "127.0.0.1"
    /// The TCP port, kept across ``restart()``.
    public let port: Int
    /// The state folder: the AOF and `redis.log`.
    public let directory: URL
    private let executable: String
    private let options: Options
    private let logger: Logger
    private let slot = ProcessSlot()

    private init(port: Int, directory: URL, executable: String, options: Options, logger: Logger) {
        self.port = port
        self.directory = directory
        self.executable = executable
        self.options = options
        self.logger = logger
    }

    /// Starts the server and waits until it answers `PING`.
    public static func start(_ options: Options = Options(), logger: Logger = Logger(label: "swap.local.redis")) async throws -> RedisServer {
        guard let executable = options.executable ?? Executable.find("redis-server") else {
            throw LocalServerError.executableNotFound(name: "redis-server", searched: ["PATH", "/usr/sbin"])
        }
        let directory = try StateDirectory.create(prefix: "redis")
        do {
            return try await onFreePort { port in
                let server = RedisServer(port: port, directory: directory, executable: executable, options: options, logger: logger)
                try await server.launch()
                return server
            }
        } catch {
            StateDirectory.remove(directory)
            throw error
        }
    }

    /// The running server process (replaced by ``restart()``).
    public var process: ChildProcess? { self.slot.process }

    /// `redis://127.0.0.1:PORT`.
    public var url: String { "redis://\(self.host):\(self.port)" }

    /// Stops the server (SIGTERM, then SIGKILL) and starts it again on the
    /// same port and folder; the AOF brings the data back.
    public func restart() async throws {
        await self.stopProcess()
        try await self.launch()
    }

    /// Stops the server and removes its folder. Safe to call twice.
    public func stop() async {
        await self.stopProcess()
        StateDirectory.remove(self.directory)
    }

    private func stopProcess() async {
        await self.slot.stop(gracePeriod: .seconds(10))
    }

    private func launch() async throws {
        let arguments = [
            "--port", String(self.port), "--bind", self.host, "--dir", self.directory.path,
            "--appendonly", "yes", "--save", "", "--daemonize", "no", "--logfile", "",
        ] + self.options.arguments
        let process = try ChildProcess.launch(
            name: "redis-server", executable: self.executable, arguments: arguments,
            workingDirectory: self.directory, logFile: self.directory.appendingPathComponent("redis.log")
        )
        self.slot.hold(process)
        let port = self.port
        do {
            try await waitUntilReady(process, timeout: self.options.startTimeout) {
                // -LOADING while the AOF replays; only +PONG means ready (and only from this process).
                guard ListenerOwner.isListening(port: port, pid: process.processIdentifier) else { return false }
                return await TCPProbe.exchange(port: port, send: Array("PING\r\n".utf8), expectPrefix: Array("+PONG".utf8))
            }
        } catch {
            await process.terminate(gracePeriod: .seconds(5))
            throw error
        }
        self.logger.debug("redis ready", metadata: ["port": "\(self.port)"])
    }
}

/// Runs `body` with a fresh Redis server and always stops it afterwards.
public func withRedis<Value>(
    _ options: RedisServer.Options = RedisServer.Options(),
    logger: Logger = Logger(label: "swap.local.redis"),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (RedisServer) async throws -> Value
) async throws -> Value {
    try await withStopping(try await RedisServer.start(options, logger: logger), body)
}
