import Foundation
import Logging

/// A throwaway PostgreSQL cluster: `initdb` into a temporary folder, then
/// `postgres` listening on 127.0.0.1 only, on a free port, with its Unix
/// socket inside that folder and durability turned off for speed.
///
/// As root, initdb and postgres run as the `postgres` account (PostgreSQL
/// refuses to run as root), and the folder is given to that account.
public final class PostgresServer: LocalServer {
    /// How to set the cluster up.
    public struct Options: Sendable {
        /// Where `initdb`, `postgres`, `pg_isready` and `psql` live.
        public var binDirectory = "/usr/lib/postgresql/15/bin"
        /// A database created at start (besides `postgres`).
        public var database: String? = "swap"
        /// Extensions created in ``database``, e.g. `["postgis"]`.
        public var extensions: [String] = []
        /// How long to wait for the server to accept connections.
        public var startTimeout: Duration = .seconds(60)
        /// Extra `-c name=value` server settings.
        public var settings: [String: String] = [:]

        public init() {}
    }

    /// The superuser (trust authentication over loopback; no password).
    public let user = "postgres"
    /// Always 127.0.0.1.
    public let host = "127.0.0.1"
    /// The TCP port, kept across ``restart()``.
    public let port: Int
    /// The state folder: `data/`, `socket/`, `postgres.log`.
    public let directory: URL
    private let options: Options
    private let runAs: SystemUser?
    private let logger: Logger
    private let slot = ProcessSlot()

    private init(port: Int, directory: URL, options: Options, runAs: SystemUser?, logger: Logger) {
        self.port = port
        self.directory = directory
        self.options = options
        self.runAs = runAs
        self.logger = logger
    }

    /// Creates the cluster, starts it and waits until it accepts connections.
    public static func start(_ options: Options = Options(), logger: Logger = Logger(label: "swap.local.postgres")) async throws -> PostgresServer {
        let directory = try StateDirectory.create(prefix: "pg")
        do {
            var runAs: SystemUser?
            if SystemUser.isRoot {
                guard let postgres = SystemUser.named("postgres") else {
                    throw LocalServerError.stateDirectory(path: directory.path, reason: "running as root needs a 'postgres' account")
                }
                runAs = postgres
            }
            // A port taken before PostgreSQL binds it: again on a new port, with the same cluster.
            var initialized = false
            let server = try await onFreePort { port in
                let server = PostgresServer(port: port, directory: directory, options: options, runAs: runAs, logger: logger)
                if !initialized {
                    try await server.initialize()
                    initialized = true
                }
                try await server.launch()
                return server
            }
            if let database = options.database {
                try await server.createDatabase(database, extensions: options.extensions)
            }
            return server
        } catch {
            StateDirectory.remove(directory)
            throw error
        }
    }

    /// The running server process (replaced by ``restart()``).
    public var process: ChildProcess? { self.slot.process }

    /// A libpq URI for `database`.
    public func url(database: String) -> String {
        "postgresql://\(self.user)@\(self.host):\(self.port)/\(database)?sslmode=disable"
    }

    /// A libpq `key=value` connection string for `database`.
    public func conninfo(database: String) -> String {
        "host=\(self.host) port=\(self.port) user=\(self.user) dbname=\(database) sslmode=disable"
    }

    /// The folder holding the server's Unix socket.
    public var socketDirectory: URL { self.directory.appendingPathComponent("socket") }

    /// Runs SQL through `psql` as the superuser and returns its output
    /// (unaligned, tuples only). For set-up and tests, not for services.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        try await Executable.run([
            self.binary("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", self.socketDirectory.path, "-p", String(self.port), "-U", self.user, "-d", database, "-c", sql,
        ])
    }

    /// Creates a database (and extensions in it).
    public func createDatabase(_ name: String, extensions: [String] = []) async throws {
        try await self.psql("CREATE DATABASE \(quoted(name))")
        for `extension` in extensions {
            try await self.psql("CREATE EXTENSION IF NOT EXISTS \(quoted(`extension`))", database: name)
        }
    }

    /// Drops a database, disconnecting its sessions first.
    public func dropDatabase(_ name: String) async throws {
        try await self.psql("DROP DATABASE IF EXISTS \(quoted(name)) WITH (FORCE)")
    }

    /// Stops the server (fast shutdown, SIGKILL after a grace period) and
    /// starts it again on the same port and data folder.
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
        await self.slot.stop(gracePeriod: .seconds(15))
    }

    private func initialize() async throws {
        let data = self.directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: self.socketDirectory, withIntermediateDirectories: true)
        if let runAs { try StateDirectory.chown(self.directory, to: runAs) }
        _ = try await Executable.run(self.wrap([
            self.binary("initdb"), "-D", data.path, "-U", self.user, "--auth=trust",
            "--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions",
        ]))
    }

    private func launch() async throws {
        var settings = [
            "listen_addresses": self.host,
            "port": String(self.port),
            "unix_socket_directories": self.socketDirectory.path,
            // Throwaway data: durability off for speed.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
        ]
        settings.merge(self.options.settings) { _, custom in custom }
        var command = [self.binary("postgres"), "-D", self.directory.appendingPathComponent("data").path]
        for (name, value) in settings.sorted(by: { $0.key < $1.key }) {
            command += ["-c", "\(name)=\(value)"]
        }
        command = self.wrap(command)
        let process = try ChildProcess.launch(
            name: "postgres", executable: command[0], arguments: Array(command.dropFirst()),
            workingDirectory: self.directory, logFile: self.directory.appendingPathComponent("postgres.log"),
            // SIGINT is PostgreSQL's fast shutdown: it disconnects clients (SIGTERM would wait for them).
            stopSignal: SIGINT
        )
        self.slot.hold(process)
        // Through this server's own socket: over TCP another server that took
        // the port first would answer, and this one would seem ready while it
        // fails to bind (then the start is retried on a new port).
        let isReady = [self.binary("pg_isready"), "-q", "-h", self.socketDirectory.path, "-p", String(self.port), "-U", self.user, "-d", "postgres", "-t", "2"]
        do {
            try await waitUntilReady(process, timeout: self.options.startTimeout) {
                (try? await Executable.run(isReady)) != nil
            }
        } catch {
            await process.terminate(gracePeriod: .seconds(5))
            throw error
        }
        self.logger.debug("postgres ready", metadata: ["port": "\(self.port)", "directory": "\(self.directory.path)"])
    }

    private func binary(_ name: String) -> String {
        (self.options.binDirectory as NSString).appendingPathComponent(name)
    }

    private func wrap(_ command: [String]) -> [String] {
        self.runAs?.wrap(command) ?? command
    }
}

/// Runs `body` with a fresh PostgreSQL server and always stops it afterwards.
public func withPostgres<Value>(
    _ options: PostgresServer.Options = PostgresServer.Options(),
    logger: Logger = Logger(label: "swap.local.postgres"),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (PostgresServer) async throws -> Value
) async throws -> Value {
    try await withStopping(try await PostgresServer.start(options, logger: logger), body)
}

/// A double-quoted SQL identifier.
private func quoted(_ identifier: String) -> String {
    "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
