import Foundation
import LocalServers
import Synchronization

/// How to start one supervised process.
struct LaunchSpec: Sendable {
    var executable: String
    var arguments: [String]
    var environment: [String: String]?
    var workingDirectory: URL
    var logFile: URL
    /// What asks it to stop cleanly (SIGINT for PostgreSQL's fast shutdown, SIGQUIT/SIGTERM...).
    var stopSignal: Int32 = SIGTERM
    /// What it gets when the supervisor dies without stopping it (a crash,
    /// SIGKILL): SIGKILL for single processes; a clean-stop signal for
    /// servers whose workers would otherwise outlive a killed master (nginx).
    var deathSignal: Int32 = SIGKILL
    /// Run as this account (PostgreSQL refuses root).
    var runAsUser: String?
}

/// Starts supervised children so that none outlives the supervisor.
///
/// Every child is started as `setpriv --pdeathsig SIG [--reuid U ...] -- program`:
/// setpriv calls prctl(PR_SET_PDEATHSIG) and then execs the program in
/// place, so the pid is the program's own and the kernel signals it when its
/// parent goes away, even on SIGKILL. Foundation's Process already makes
/// each child the leader of its own process group (pgid == pid), so a group
/// signal reaches its workers too, and a Ctrl-C on the terminal reaches only
/// swapctl, which then stops everything in order.
///
/// The parent-death signal belongs to the parent *thread*, so every spawn
/// happens on one dedicated thread that lives as long as the process.
enum Launcher {
    static func launch(name: String, _ spec: LaunchSpec) async throws -> ChildProcess {
        let command = try self.command(spec)
        return try await SpawnThread.shared.run {
            try ChildProcess.launch(
                name: name, executable: command[0], arguments: Array(command.dropFirst()),
                environment: spec.environment, workingDirectory: spec.workingDirectory, logFile: spec.logFile,
                stopSignal: spec.stopSignal
            )
        }
    }

    static func command(_ spec: LaunchSpec) throws -> [String] {
        guard let setpriv = HostTools.find("setpriv") else {
            throw HarnessError.missingTool("setpriv", hint: "it is part of util-linux")
        }
        var command = [setpriv, "--pdeathsig", signalName(spec.deathSignal)]
        if let user = spec.runAsUser {
            command += ["--reuid=\(user)", "--regid=\(user)", "--init-groups"]
        }
        return command + ["--", spec.executable] + spec.arguments
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: "TERM"
        case SIGINT: "INT"
        case SIGQUIT: "QUIT"
        case SIGHUP: "HUP"
        default: "KILL"
        }
    }
}

/// One long-lived thread that performs every spawn (see ``Launcher``).
final class SpawnThread: Sendable {
    static let shared = SpawnThread()

    private struct Work: Sendable { let body: @Sendable () -> Void }
    private let queue = Mutex<[Work]>([])
    private let signal = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { [self] in
            while true {
                self.signal.wait()
                let next = self.queue.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                next?.body()
            }
        }
        thread.name = "swapctl-spawn"
        thread.start()
    }

    func run<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            self.queue.withLock { $0.append(Work { continuation.resume(with: Result { try body() }) }) }
            self.signal.signal()
        }
    }
}

/// Programs the harness calls, looked up on PATH and the sbin folders.
enum HostTools {
    static func find(_ name: String, extra: [String] = []) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let folders = extra + path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        for folder in folders {
            let candidate = (folder as NSString).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static func require(_ name: String, extra: [String] = [], hint: String) throws -> String {
        guard let found = find(name, extra: extra) else { throw HarnessError.missingTool(name, hint: hint) }
        return found
    }
}
