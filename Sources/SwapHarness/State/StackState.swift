import Foundation

/// `.swap/state.json`: what the supervisor runs, written by it after every
/// change and read by `status`, `logs`, `down` and a second `up` (possibly
/// from other swapctl processes). Pids always come with their start time.
public struct StackState: Codable, Sendable {
    public enum Phase: String, Codable, Sendable {
        case booting, ready, failed, stopping, stopped
    }

    public var version = 1
    /// A random id per `up`, so a detached front end knows the state is its own.
    public var bootID: String
    public var project: String
    public var environment: String
    /// The folder holding topology.yaml.
    public var root: String
    public var supervisor: ProcessIdentity
    public var detached: Bool
    public var infrastructureOnly: Bool
    public var phase: Phase
    /// Why the boot failed (a component, its reason and its log tail).
    public var error: String?
    public var startedAt: Date
    /// From the start of the boot to the last component ready.
    public var bootMilliseconds: Int?
    public var urls: StackURLs?
    public var components: [ComponentState]

    public func component(_ name: String) -> ComponentState? { components.first { $0.name == name } }
}

/// A process as the harness knows it: the pid and its start time (clock
/// ticks since boot, /proc/PID/stat field 22), so a reused pid is never signalled.
public struct ProcessIdentity: Codable, Sendable, Equatable {
    public var pid: Int32
    public var startTime: UInt64

    public init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    /// The current process.
    public static var current: ProcessIdentity {
        let pid = getpid()
        return ProcessIdentity(pid: pid, startTime: ProcessTable.startTime(of: pid) ?? 0)
    }

    /// Alive, not a zombie, and still the same process.
    public var isAlive: Bool { ProcessTable.isAlive(self.pid, startTime: self.startTime) }
}

/// Where clients reach the stack.
public struct StackURLs: Codable, Sendable, Equatable {
    /// `https://localhost:PORT` (nil when `ingress.tls: none`).
    public var https: String?
    /// `http://localhost:PORT`: redirects to HTTPS, or the API itself without TLS.
    public var http: String
    /// The local CA certificate that signed nginx's certificate: `curl --cacert`.
    public var caFile: String?
}

public enum ComponentKind: String, Codable, Sendable {
    case postgres, redis, kafka, service, nginx

    public var isInfrastructure: Bool { self != .service }
}

/// One supervised process and what happened to it.
public struct ComponentState: Codable, Sendable {
    public enum Status: String, Codable, Sendable {
        /// Waiting for its dependencies.
        case waiting
        /// Launched (or being prepared), not ready yet.
        case starting
        case ready
        case failed
        /// Crashed; restarting after a back-off.
        case restarting
        /// Not started: a dependency failed, or the boot was cancelled.
        case skipped
        case stopping
        case stopped
    }

    /// `main`, `cache`, `events`, `gateway`, `realtime.1`, `nginx`.
    public var name: String
    public var kind: ComponentKind
    /// The topology name it belongs to: the service of a replica, else its own name.
    public var group: String
    /// 1-based replica number for services with more than one replica.
    public var replica: Int?
    public var port: Int
    /// Named extra ports (nginx: `http`, `https`).
    public var ports: [String: Int]
    public var process: ProcessIdentity?
    public var status: Status
    /// A short explanation for failed, restarting or skipped.
    public var detail: String?
    /// Milliseconds from the start of the boot until it began starting.
    public var startedAtMs: Int?
    /// Milliseconds from the start of the boot until it was ready.
    public var readyAtMs: Int?
    public var restarts: Int
    public var lastExit: String?
    public var logFiles: [String]
    public var health: HealthProbe
    public var dependencies: [String]

    /// How long it took from starting to ready.
    public var readyInMs: Int? {
        guard let start = startedAtMs, let ready = readyAtMs else { return nil }
        return ready - start
    }
}

/// Reading and writing state.json atomically.
enum StateFile {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static func write(_ state: StackState, to url: URL) throws {
        let data = try encoder().encode(state)
        // Write-then-rename: readers never see half a file.
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".state.\(getpid()).json")
        try data.write(to: temporary)
        if rename(temporary.path, url.path) != 0 {
            try? FileManager.default.removeItem(at: temporary)
            throw HarnessError.io("cannot replace \(url.path): \(String(cString: strerror(errno)))")
        }
    }

    static func read(_ url: URL) -> StackState? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(StackState.self, from: data)
    }
}
