/// Why a local server could not be started or used.
public enum LocalServerError: Error, Sendable, CustomStringConvertible {
    /// No executable was found; `searched` lists where it was looked for.
    case executableNotFound(name: String, searched: [String])
    /// The server did not become ready in time.
    case notReady(server: String, timeout: Duration, logTail: String)
    /// The server exited while starting.
    case exitedDuringStartup(server: String, status: Int32, logTail: String)
    /// A process could not be launched at all.
    case launchFailed(command: String, reason: String)
    /// A helper command (initdb, psql, nginx -t) failed.
    case commandFailed(command: String, status: Int32, output: String)
    /// The state folder could not be prepared.
    case stateDirectory(path: String, reason: String)
    /// No free port could be reserved.
    case noFreePort(reason: String)

    public var description: String {
        switch self {
        case .executableNotFound(let name, let searched):
            "\(name) not found (looked in: \(searched.joined(separator: ", ")))"
        case .notReady(let server, let timeout, let logTail):
            "\(server) was not ready after \(timeout); last log lines:\n\(logTail)"
        case .exitedDuringStartup(let server, let status, let logTail):
            "\(server) exited with status \(status) while starting; last log lines:\n\(logTail)"
        case .launchFailed(let command, let reason):
            "cannot launch \(command): \(reason)"
        case .commandFailed(let command, let status, let output):
            "\(command) failed with status \(status):\n\(output)"
        case .stateDirectory(let path, let reason):
            "cannot prepare \(path): \(reason)"
        case .noFreePort(let reason):
            "no free loopback port: \(reason)"
        }
    }
}
