import Foundation
import Logging

/// nginx in the foreground (`-g 'daemon off;'`) with a given configuration,
/// its prefix (relative paths, temp folders, logs) in a temporary folder.
public final class NginxServer: LocalServer {
    /// The prefix folder; the configuration is written to `nginx.conf` in it.
    public let directory: URL
    /// The configuration file nginx runs with.
    public let configurationFile: URL
    private let executable: String
    private let slot = ProcessSlot()

    private init(directory: URL, configurationFile: URL, executable: String) {
        self.directory = directory
        self.configurationFile = configurationFile
        self.executable = executable
    }

    /// The nginx binary on PATH or in /usr/sbin.
    public static func locate() throws(LocalServerError) -> String {
        guard let nginx = Executable.find("nginx") else {
            throw .executableNotFound(name: "nginx", searched: ["PATH", "/usr/sbin", "/sbin"])
        }
        return nginx
    }

    /// Checks a configuration with `nginx -t`; throws with nginx's output when invalid.
    @discardableResult
    public static func test(configurationFile: URL, prefix: URL) async throws -> String {
        let nginx = try locate()
        return try await Executable.run([
            nginx, "-t", "-q", "-p", prefix.path + "/", "-e", prefix.appendingPathComponent("logs/error.log").path,
            "-c", configurationFile.path, "-g", extraDirectives(for: configurationFile, prefix: prefix),
        ])
    }

    /// Writes `configuration` into a fresh prefix folder, starts nginx and
    /// waits until every port in `readinessPorts` accepts connections.
    /// Relative paths in the configuration resolve against the prefix.
    public static func start(
        configuration: String,
        readinessPorts: [Int],
        startTimeout: Duration = .seconds(30),
        logger: Logger = Logger(label: "swap.local.nginx")
    ) async throws -> NginxServer {
        let nginx = try locate()
        let directory = try StateDirectory.create(prefix: "nginx")
        let server = NginxServer(directory: directory, configurationFile: directory.appendingPathComponent("nginx.conf"), executable: nginx)
        do {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("logs"), withIntermediateDirectories: true)
            try configuration.write(to: server.configurationFile, atomically: true, encoding: .utf8)
            try await server.test()
            let process = try ChildProcess.launch(
                name: "nginx", executable: nginx,
                arguments: [
                    "-p", directory.path + "/", "-e", directory.appendingPathComponent("logs/error.log").path,
                    "-c", server.configurationFile.path,
                    "-g", "daemon off; " + extraDirectives(for: server.configurationFile, prefix: directory),
                ],
                workingDirectory: directory, logFile: directory.appendingPathComponent("nginx.log"),
                // SIGQUIT: graceful shutdown (finish in-flight requests).
                stopSignal: SIGQUIT
            )
            server.slot.hold(process)
            try await waitUntilReady(process, timeout: startTimeout) {
                for port in readinessPorts where await !TCPProbe.accepts(port: port) { return false }
                return true
            }
        } catch {
            await server.stop()
            throw error
        }
        logger.debug("nginx ready", metadata: ["prefix": "\(directory.path)"])
        return server
    }

    /// `nginx -t` on this server's configuration.
    @discardableResult
    public func test() async throws -> String {
        try await Self.test(configurationFile: self.configurationFile, prefix: self.directory)
    }

    /// The running nginx master process.
    public var process: ChildProcess? { self.slot.process }

    /// Stops nginx and removes its prefix folder. Safe to call twice.
    public func stop() async {
        await self.slot.stop(gracePeriod: .seconds(10))
        StateDirectory.remove(self.directory)
    }

    /// A `pid` directive inside the prefix unless the configuration sets one
    /// (the default /run/nginx.pid would clash with a system nginx).
    private static func extraDirectives(for configurationFile: URL, prefix: URL) -> String {
        let text = (try? String(contentsOf: configurationFile, encoding: .utf8)) ?? ""
        let setsPid = text.split(separator: "\n").contains { line in
            line.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("pid ")
        }
        return setsPid ? "" : "pid \(prefix.appendingPathComponent("nginx.pid").path);"
    }
}

/// Runs `body` with nginx on `configuration` and always stops it afterwards.
public func withNginx<Value>(
    configuration: String,
    readinessPorts: [Int],
    logger: Logger = Logger(label: "swap.local.nginx"),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (NginxServer) async throws -> Value
) async throws -> Value {
    try await withStopping(try await NginxServer.start(configuration: configuration, readinessPorts: readinessPorts, logger: logger), body)
}
