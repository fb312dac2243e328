import Foundation

/// `status` and `down` from any swapctl process, through the state folder:
/// state.json says what runs (pids with start times), the supervisor's lock
/// says whether it is alive.
public enum StackControl {
    /// What state.json says, if the folder holds one.
    public static func state(in folder: URL) -> StackState? {
        StateFile.read(StateLayout(folder: folder).stateFile)
    }

    /// Whether a supervisor holds the state folder right now.
    public static func isRunning(_ folder: URL) -> Bool {
        StateLock.isHeld(StateLayout(folder: folder).lockFile)
    }

    /// One component as `status` shows it.
    public struct ComponentReport: Sendable {
        public var state: ComponentState
        /// Its recorded process is alive (same pid and start time).
        public var alive: Bool
        /// The health probe's answer, probed now.
        public var health: HealthProbe.Outcome
    }

    public struct StatusReport: Sendable {
        public var state: StackState
        /// The supervisor holds the folder.
        public var running: Bool
        public var components: [ComponentReport]

        /// Running, and every component alive and healthy.
        public var healthy: Bool { running && components.allSatisfy { $0.alive && $0.health.healthy } }
    }

    /// state.json plus a probe of every component, all probed concurrently.
    public static func status(_ folder: URL) async -> StatusReport? {
        guard let state = state(in: folder) else { return nil }
        let running = isRunning(folder)
        let reports = await withTaskGroup(of: (Int, ComponentReport).self) { group in
            for (index, component) in state.components.enumerated() {
                group.addTask {
                    let alive = component.process?.isAlive ?? false
                    let health = alive ? await component.health.check(timeout: .seconds(2)) : HealthProbe.Outcome(healthy: false, detail: "not running")
                    return (index, ComponentReport(state: component, alive: alive, health: health))
                }
            }
            var reports: [(Int, ComponentReport)] = []
            for await report in group { reports.append(report) }
            return reports.sorted { $0.0 < $1.0 }.map(\.1)
        }
        return StatusReport(state: state, running: running, components: reports)
    }

    public struct DownReport: Sendable {
        /// A stack (or what was left of one) was found.
        public var found: Bool
        /// The supervisor was asked to stop and did.
        public var supervisorStopped: Bool
        /// Components that had to be killed directly (their supervisor was gone).
        public var killed: [String]
    }

    /// Stops the stack in `folder` and removes the folder: the supervisor is
    /// asked to stop everything in order (SIGTERM); processes it left (it
    /// crashed, or would not stop) are killed by their recorded pid and
    /// start time; nothing else is ever signalled.
    public static func down(_ folder: URL, grace: Duration = .seconds(10)) async throws -> DownReport {
        let layout = StateLayout(folder: folder)
        guard FileManager.default.fileExists(atPath: folder.path) else {
            return DownReport(found: false, supervisorStopped: false, killed: [])
        }
        let state = StateFile.read(layout.stateFile)
        var stopped = false
        if let supervisor = state?.supervisor, supervisor.isAlive, StateLock.isHeld(layout.lockFile) {
            guard supervisor.pid != getpid() else {
                throw HarnessError.unsupported("this process supervises the stack: call Supervisor.down() instead")
            }
            kill(supervisor.pid, SIGTERM)
            // Levels stop one after another, each within the grace period.
            let deadline = ContinuousClock.now + grace * 4 + .seconds(10)
            while supervisor.isAlive, StateLock.isHeld(layout.lockFile), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            if supervisor.isAlive, StateLock.isHeld(layout.lockFile) {
                kill(supervisor.pid, SIGKILL)
                _ = await ProcessTable.waitForExit(supervisor.pid, startTime: supervisor.startTime, timeout: .seconds(5))
            } else {
                stopped = true
            }
        }
        var killed: [String] = []
        if let latest = StateFile.read(layout.stateFile) ?? state {
            killed = killRecordedProcesses(latest, grace: grace)
        }
        do {
            try FileManager.default.removeItem(at: folder)
        } catch {
            throw HarnessError.io("cannot remove \(folder.path): \(error)")
        }
        return DownReport(found: true, supervisorStopped: stopped, killed: killed)
    }

    /// Makes `folder` ready for a new run: refuses while a supervisor holds
    /// it; otherwise kills what a previous run left (by recorded pid and
    /// start time) and empties it. A detached `up` calls this before it
    /// starts the supervisor, whose output goes to `logs/swapctl.log`.
    public static func prepare(_ folder: URL) throws {
        let layout = StateLayout(folder: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        guard let lock = try StateLock.acquire(layout.lockFile) else { throw alreadyRunningError(layout) }
        defer { lock.release() }
        try clean(layout, keepSupervisorLog: false)
    }

    /// The file a detached supervisor writes its output to.
    public static func supervisorLog(in folder: URL) -> URL { StateLayout(folder: folder).supervisorLog }

    static func alreadyRunningError(_ layout: StateLayout) -> HarnessError {
        let existing = StateFile.read(layout.stateFile)
        return .alreadyRunning(
            stateFolder: layout.folder.path, supervisor: existing?.supervisor.pid ?? 0,
            since: existing.map { ISO8601DateFormatter().string(from: $0.startedAt) }
        )
    }

    /// With the lock held: stops leftovers of an earlier run, empties the folder.
    static func clean(_ layout: StateLayout, keepSupervisorLog: Bool) throws {
        let manager = FileManager.default
        if let stale = StateFile.read(layout.stateFile) { killRecordedProcesses(stale, grace: .seconds(5)) }
        for name in (try? manager.contentsOfDirectory(atPath: layout.folder.path)) ?? [] {
            guard name != layout.lockFile.lastPathComponent, !(keepSupervisorLog && name == layout.logs.lastPathComponent) else { continue }
            try manager.removeItem(at: layout.folder.appendingPathComponent(name))
        }
        if keepSupervisorLog, let logs = try? manager.contentsOfDirectory(atPath: layout.logs.path) {
            for name in logs where name != layout.supervisorLog.lastPathComponent {
                try manager.removeItem(at: layout.logs.appendingPathComponent(name))
            }
        }
        try manager.createDirectory(at: layout.logs, withIntermediateDirectories: true)
        // Ignored by git wherever the folder is.
        try "*\n".write(to: layout.folder.appendingPathComponent(".gitignore"), atomically: true, encoding: .utf8)
    }

    /// Stops the recorded processes that are still alive (same pid and start
    /// time): their stop signal, then SIGKILL to their process group after
    /// `grace`; also kills workers whose recorded leader is gone. Returns the
    /// names of the components that had anything left.
    @discardableResult
    static func killRecordedProcesses(_ state: StackState, grace: Duration) -> [String] {
        var touched: [String] = []
        var pending: [(ComponentState, ProcessIdentity)] = []
        for component in state.components {
            guard let identity = component.process else { continue }
            if identity.isAlive {
                kill(identity.pid, component.kind == .postgres ? SIGINT : SIGTERM)
                kill(identity.pid, SIGCONT)
                pending.append((component, identity))
                touched.append(component.name)
            } else if !leftoverMembers(of: identity).isEmpty {
                touched.append(component.name)
            }
        }
        let deadline = ContinuousClock.now + grace
        while pending.contains(where: { $0.1.isAlive }), ContinuousClock.now < deadline { usleep(20_000) }
        for (_, identity) in pending where identity.isAlive { kill(-identity.pid, SIGKILL); kill(identity.pid, SIGKILL) }
        for component in state.components {
            guard let identity = component.process else { continue }
            for pid in leftoverMembers(of: identity) { kill(pid, SIGKILL) }
        }
        return touched
    }

    /// Live members of a recorded leader's process group that started after it
    /// (nginx workers whose master was killed). The kernel does not reuse a
    /// pid as a group id while that group has members.
    private static func leftoverMembers(of leader: ProcessIdentity) -> [Int32] {
        // The pid now names another process: that group is not ours.
        if let current = ProcessTable.startTime(of: leader.pid), current != leader.startTime { return [] }
        return ProcessTable.members(ofGroup: leader.pid).filter { pid in
            guard pid != getpid(), let entry = ProcessTable.entry(pid) else { return false }
            return entry.startTime >= leader.startTime
        }
    }
}
