import Foundation
import LocalServers
import SwapKafka
import SwapTopology

/// PostgreSQL, Redis and the broker as supervised processes, their state in
/// the run's folder. The server settings follow LocalServers' throwaway
/// servers (durability off: `down` deletes the data anyway).
enum InfrastructureComponents {
    static func postgres(_ datastore: Datastore, port: Int, topology: Topology, context: PlanContext) throws -> ComponentSpec {
        let bin = context.configuration.postgresBinFolder
        let tool: @Sendable (String) -> String = { name in (bin as NSString).appendingPathComponent(name) }
        guard FileManager.default.isExecutableFile(atPath: tool("postgres")) else {
            throw HarnessError.missingTool("postgres", hint: "looked in \(bin); set SWAP_PG_BINDIR or install postgresql-15")
        }
        let folder = context.layout.data(datastore.name)
        let data = folder.appendingPathComponent("data")
        let sockets = Self.socketFolder(folder)
        let runAs = getuid() == 0 ? "postgres" : nil
        let project = topology.project
        let extensions = datastore.extensions
        let secrets = context.layout.secrets
        let socketArguments = ["-h", sockets.path, "-p", String(port)]
        let settings = [
            "listen_addresses=127.0.0.1", "port=\(port)", "unix_socket_directories=\(sockets.path)",
            "fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200",
        ]
        return ComponentSpec(
            name: datastore.name, kind: .postgres, group: datastore.name, port: port, dependencies: [],
            launch: LaunchSpec(
                executable: tool("postgres"), arguments: ["-D", data.path] + settings.flatMap { ["-c", $0] },
                workingDirectory: folder, logFile: context.layout.log(datastore.name),
                // SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for clients).
                stopSignal: SIGINT, deathSignal: SIGINT, runAsUser: runAs
            ),
            health: HealthProbe(kind: .postgres, port: port),
            timeout: context.configuration.infrastructureTimeout,
            logFiles: [context.layout.log(datastore.name)],
            prepare: {
                try FileManager.default.createDirectory(at: sockets, withIntermediateDirectories: true)
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                if let runAs { try Ownership.give([folder, sockets], to: runAs) }
                var initdb = [tool("initdb"), "-D", data.path, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
                              "--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions"]
                if let runAs { initdb = try Launcher.command(LaunchSpec(executable: initdb[0], arguments: Array(initdb.dropFirst()),
                                                                          workingDirectory: folder, logFile: folder, runAsUser: runAs)) }
                try await HelperCommand.run(initdb, in: folder)
            },
            readiness: {
                do {
                    try await HelperCommand.run([tool("pg_isready"), "-q"] + socketArguments + ["-U", "postgres", "-d", "postgres", "-t", "1"])
                    return HealthProbe.Outcome(healthy: true, detail: "accepting connections")
                } catch {
                    return HealthProbe.Outcome(healthy: false, detail: "pg_isready: not accepting connections")
                }
            },
            afterReady: { restart in
                guard !restart else { return }
                // The role's password is the db_password secret the services read; SQL goes through stdin.
                let password = try SecretStore.read(InfrastructureSecrets.databasePassword, in: secrets)
                var sql = """
                CREATE ROLE \(SQLText.identifier(project)) LOGIN PASSWORD \(SQLText.literal(password));
                CREATE DATABASE \(SQLText.identifier(project)) OWNER \(SQLText.identifier(project));
                \\connect \(SQLText.identifier(project))

                """
                for name in extensions { sql += "CREATE EXTENSION IF NOT EXISTS \(SQLText.identifier(name));\n" }
                try await HelperCommand.run(
                    [tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"] + socketArguments + ["-U", "postgres", "-d", "postgres"],
                    input: sql
                )
            }
        )
    }

    /// A Unix socket path is limited to 107 bytes: deep folders use /tmp.
    private static func socketFolder(_ folder: URL) -> URL {
        let preferred = folder.appendingPathComponent("run")
        if preferred.path.utf8.count + "/.s.PGSQL.65535".utf8.count < 100 { return preferred }
        // Stable per state folder (FNV-1a), so runs reuse one folder instead of leaving many.
        let hash = folder.path.utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
        return URL(fileURLWithPath: "/tmp/swapctl-pg-\(String(hash, radix: 36))")
    }

    static func redis(_ datastore: Datastore, port: Int, context: PlanContext) throws -> ComponentSpec {
        let server = try HostTools.require("redis-server", hint: "apt-get install redis-server")
        let folder = context.layout.data(datastore.name)
        var arguments = ["--port", String(port), "--bind", "127.0.0.1", "--dir", folder.path, "--daemonize", "no", "--logfile", ""]
        switch datastore.persistence {
        case .aof: arguments += ["--appendonly", "yes", "--save", ""]
        case .rdb: arguments += ["--appendonly", "no", "--save", "3600 1 300 100 60 10000"]
        case .none: arguments += ["--appendonly", "no", "--save", ""]
        }
        if let memory = datastore.maxMemory { arguments += ["--maxmemory", memory.redis] }
        let probe = HealthProbe(kind: .redis, port: port)
        return ComponentSpec(
            name: datastore.name, kind: .redis, group: datastore.name, port: port, dependencies: [],
            launch: LaunchSpec(executable: server, arguments: arguments, workingDirectory: folder, logFile: context.layout.log(datastore.name)),
            health: probe, timeout: context.configuration.infrastructureTimeout, logFiles: [context.layout.log(datastore.name)],
            prepare: { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) },
            readiness: { await probe.check() }
        )
    }

    /// One Tansu node per broker (memory storage), whatever `nodes` says:
    /// the topics are created with replication 1 on it.
    static func kafka(_ broker: Broker, port: Int, topology: Topology, context: PlanContext) throws -> ComponentSpec {
        let tansu = try context.configuration.tansu ?? KafkaBroker.locateTansu(packageRoot: context.configuration.root)
        let folder = context.layout.data(broker.name)
        let listener = "tcp://127.0.0.1:\(port)"
        let topics = broker.topics.map { topic in
            var config: [String: String] = [:]
            if let retention = topic.retention { config["retention.ms"] = String(retention.totalMilliseconds) }
            return KafkaTopicSpecification(name: topic.name, partitions: topic.partitions, replicationFactor: 1, config: config)
        }
        let probe = HealthProbe(kind: .tcp, port: port)
        return ComponentSpec(
            name: broker.name, kind: .kafka, group: broker.name, port: port, dependencies: [],
            launch: LaunchSpec(
                executable: tansu,
                arguments: ["broker", "--cluster-id", "\(topology.project)-local", "--listener-url", listener,
                            "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/"],
                workingDirectory: folder, logFile: context.layout.log(broker.name)
            ),
            health: probe, timeout: context.configuration.infrastructureTimeout, logFiles: [context.layout.log(broker.name)],
            prepare: { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) },
            readiness: { await probe.check() },
            // Memory storage: after a restart the topics are gone, so they are created every time.
            afterReady: { _ in
                let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrapServers: ["127.0.0.1:\(port)"], clientID: "swapctl"))
                do {
                    try await admin.createTopics(topics, ifNotExists: true, timeout: .seconds(20))
                    await admin.shutdown()
                } catch {
                    await admin.shutdown()
                    throw error
                }
            }
        )
    }
}

enum SQLText {
    static func identifier(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    static func literal(_ value: String) -> String { "'" + value.replacingOccurrences(of: "'", with: "''") + "'" }
}

enum Ownership {
    /// chown to `user` (PostgreSQL refuses a data folder it does not own).
    static func give(_ urls: [URL], to user: String) throws {
        guard let entry = getpwnam(user) else { throw HarnessError.unsupported("running as root needs a '\(user)' account for PostgreSQL") }
        for url in urls where chown(url.path, entry.pointee.pw_uid, entry.pointee.pw_gid) != 0 {
            throw HarnessError.io("cannot give \(url.path) to \(user): \(String(cString: strerror(errno)))")
        }
    }
}
