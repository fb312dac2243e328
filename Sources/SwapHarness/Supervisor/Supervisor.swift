import Foundation
import LocalServers
import Synchronization
import SwapTopology

/// What a supervisor reports while it runs.
public enum SupervisorEvent: Sendable {
    /// Any change: a component waiting, starting, ready, failed, restarting, stopped.
    case updated(StackState)
    /// A line worth showing: a crash, a restart, a stop.
    case message(String)
}

/// Boots a topology as native processes and keeps them running: datastores
/// and brokers first, then the services in dependency order, then nginx,
/// independent components in parallel, each gated on its readiness probe.
/// Crashed processes are restarted with exponential back-off; ``stop()``
/// stops everything in reverse order (stop signal, then SIGKILL). Every
/// change is written to state.json for `status`, `logs` and `down`.
public actor Supervisor {
    public nonisolated let configuration: HarnessConfiguration
    nonisolated let layout: StateLayout
    private let plan: StackPlan
    private var state: StackState
    private var processes: [String: ChildProcess] = [:]
    private var monitors: [String: Task<Void, Never>] = [:]
    private var booting = true
    private var stopping = false
    private var stopTask: Task<Void, Never>?
    private var bootFailure: HarnessError?
    private let lock: StateLock
    private let bootStart = ContinuousClock.now
    private let observer: @Sendable (SupervisorEvent) -> Void
    /// Process groups of live children, for ``forceKill()`` from a signal handler.
    private nonisolated let groups = Mutex<[String: Int32]>([:])

    private init(
        configuration: HarnessConfiguration, layout: StateLayout, plan: StackPlan, state: StackState, lock: StateLock,
        observer: @escaping @Sendable (SupervisorEvent) -> Void
    ) {
        self.configuration = configuration
        self.layout = layout
        self.plan = plan
        self.state = state
        self.lock = lock
        self.observer = observer
    }

    /// The state folder of this run.
    public nonisolated var stateFolder: URL { layout.folder }

    /// The current state (what state.json holds).
    public var snapshot: StackState { state }

    /// Takes the state folder, boots every component and returns once all
    /// are ready. Throws ``HarnessError/alreadyRunning(stateFolder:supervisor:since:)``
    /// when another supervisor holds the folder, and
    /// ``HarnessError/componentFailed(component:reason:logFile:logTail:)`` (after
    /// stopping whatever had started) when a component fails or times out.
    public static func up(
        _ configuration: HarnessConfiguration,
        topology: Topology,
        bootID: String = UUID().uuidString,
        observer: @escaping @Sendable (SupervisorEvent) -> Void = { _ in }
    ) async throws -> Supervisor {
        let layout = StateLayout(folder: configuration.stateFolder)
        let lock = try claim(layout, keepSupervisorLog: configuration.detached)
        let plan: StackPlan
        do {
            plan = try StackPlan.make(topology: topology, configuration: configuration, layout: layout)
            try SecretStore.write(topology, needed: plan.secretsNeeded, root: configuration.root, into: layout.secrets)
        } catch {
            lock.release()
            throw error
        }
        let state = StackState(
            bootID: bootID, project: topology.project, environment: topology.environment, root: configuration.root.path,
            supervisor: .current, detached: configuration.detached, infrastructureOnly: configuration.infrastructureOnly,
            phase: .booting, startedAt: Date(), urls: plan.urls,
            components: plan.components.map { spec in
                ComponentState(
                    name: spec.name, kind: spec.kind, group: spec.group, replica: spec.replica, port: spec.port, ports: spec.ports,
                    status: .waiting, restarts: 0, logFiles: spec.logFiles.map(\.path), health: spec.health,
                    dependencies: spec.dependencies
                )
            }
        )
        let supervisor = Supervisor(configuration: configuration, layout: layout, plan: plan, state: state, lock: lock, observer: observer)
        try await supervisor.boot()
        return supervisor
    }

    /// Locks the state folder; a folder left by a run that ended without
    /// `down` (a crash, a failed boot) is cleaned first, its leftovers killed.
    private static func claim(_ layout: StateLayout, keepSupervisorLog: Bool) throws -> StateLock {
        try FileManager.default.createDirectory(at: layout.folder, withIntermediateDirectories: true)
        guard let lock = try StateLock.acquire(layout.lockFile) else {
            throw StackControl.alreadyRunningError(layout)
        }
        do {
            try StackControl.clean(layout, keepSupervisorLog: keepSupervisorLog)
        } catch {
            lock.release()
            throw error
        }
        return lock
    }

    // MARK: Boot

    private func boot() async throws {
        self.publish()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for spec in self.plan.components {
                    group.addTask { try await self.bootComponent(spec) }
                }
                try await group.waitForAll()
            }
        } catch {
            let failure = self.bootFailure ?? .cancelled
            for index in self.state.components.indices where self.state.components[index].status == .waiting {
                self.state.components[index].status = .skipped
            }
            self.state.phase = .failed
            self.state.error = failure.description
            self.publish()
            await self.stop()
            throw failure
        }
        self.booting = false
        self.state.phase = .ready
        self.state.bootMilliseconds = self.elapsedMilliseconds()
        self.publish()
        for spec in self.plan.components {
            self.monitors[spec.name] = Task { await self.monitor(spec) }
        }
    }

    private func bootComponent(_ spec: ComponentSpec) async throws {
        while true {
            try Task.checkCancellation()
            let statuses = spec.dependencies.map { self.state.component($0)?.status }
            if statuses.allSatisfy({ $0 == .ready }) { break }
            if statuses.contains(where: { $0 == .failed || $0 == .skipped }) {
                self.update(spec.name) { $0.status = .skipped; $0.detail = "a dependency failed" }
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        try await self.start(spec, restart: false)
    }

    /// Prepares (first time), launches, waits for readiness, runs the after-ready step.
    private func start(_ spec: ComponentSpec, restart: Bool) async throws {
        self.update(spec.name) { component in
            component.status = .starting
            component.detail = nil
            if !restart { component.startedAtMs = self.elapsedMilliseconds() }
        }
        do {
            if !restart { try await spec.prepare() }
            try Task.checkCancellation()
            let process = try await Launcher.launch(name: spec.name, spec.launch)
            self.processes[spec.name] = process
            let pid = process.processIdentifier
            self.groups.withLock { $0[spec.name] = pid }
            self.update(spec.name) { $0.process = ProcessIdentity(pid: pid, startTime: ProcessTable.startTime(of: pid) ?? 0) }
            try await self.waitUntilReady(spec, process)
            try await spec.afterReady(restart)
        } catch {
            if error is CancellationError {
                self.update(spec.name) { $0.status = .skipped; $0.detail = "cancelled" }
                throw error
            }
            let failure = self.describe(error, of: spec)
            self.update(spec.name) { $0.status = .failed; $0.detail = failure.description.split(separator: "\n").first.map(String.init) }
            if self.booting, self.bootFailure == nil { self.bootFailure = failure }
            throw failure
        }
        self.update(spec.name) { component in
            component.status = .ready
            if !restart { component.readyAtMs = self.elapsedMilliseconds() }
        }
    }

    private func waitUntilReady(_ spec: ComponentSpec, _ process: ChildProcess) async throws {
        let deadline = ContinuousClock.now + spec.timeout
        while true {
            if let status = process.terminationStatus {
                throw HarnessError.componentFailed(
                    component: spec.title, reason: "exited with status \(status) while starting",
                    logFile: self.relative(spec.launch.logFile), logTail: process.logTail(lines: 25)
                )
            }
            try Task.checkCancellation()
            let outcome = await spec.readiness()
            if outcome.healthy { return }
            if ContinuousClock.now >= deadline {
                throw HarnessError.componentFailed(
                    component: spec.title,
                    reason: "was not ready after \(DurationText.format(spec.timeout)) (last probe: \(outcome.detail))",
                    logFile: self.relative(spec.launch.logFile), logTail: process.logTail(lines: 25)
                )
            }
            try await Task.sleep(for: .milliseconds(40))
        }
    }

    private func describe(_ error: any Error, of spec: ComponentSpec) -> HarnessError {
        if let harness = error as? HarnessError, case .componentFailed = harness { return harness }
        let reason = (error as? HarnessError)?.description ?? "\(error)"
        return .componentFailed(
            component: spec.title, reason: "failed to start: \(reason)",
            logFile: self.relative(spec.launch.logFile), logTail: LogFiles.tail(spec.launch.logFile, lines: 25)
        )
    }

    // MARK: Restarts and holds

    /// Watches one component after the boot: restarts it with back-off when
    /// it exits, and stops it (without counting a restart) while
    /// `swapctl stop` holds it, starting it again once `swapctl start`
    /// releases it.
    private func monitor(_ spec: ComponentSpec) async {
        var attempt = 0
        var launchedAt = ContinuousClock.now
        while !Task.isCancelled, !self.stopping {
            if self.isHeld(spec.name) {
                guard await self.hold(spec) else { return }
                attempt = 0
                launchedAt = ContinuousClock.now
                await self.startAgain(spec) { "\(spec.title) started again (`swapctl start`), ready" }
                continue
            }
            if let process = self.processes[spec.name], process.isRunning {
                try? await Task.sleep(for: .milliseconds(150))
                continue
            }
            // It exited, or its last start failed before it launched.
            let exit = self.reap(spec)
            if ContinuousClock.now - launchedAt >= self.configuration.restart.resetAfter { attempt = 0 }
            guard self.configuration.restart.enabled else {
                self.update(spec.name) { $0.status = .failed; $0.lastExit = exit; $0.process = nil; $0.detail = exit }
                self.note(spec, "\(spec.title) \(exit); restarts are off")
                return
            }
            let delay = self.configuration.restart.delay(attempt: attempt)
            attempt += 1
            let count = (self.state.component(spec.name)?.restarts ?? 0) + 1
            self.update(spec.name) { component in
                component.status = .restarting
                component.restarts = count
                component.lastExit = exit
                component.process = nil
                component.detail = "restart \(count) in \(DurationText.format(delay))"
            }
            self.note(spec, "\(spec.title) \(exit); restart \(count) in \(DurationText.format(delay))")
            try? await Task.sleep(for: delay)
            if Task.isCancelled || self.stopping || self.isHeld(spec.name) { continue }
            launchedAt = ContinuousClock.now
            await self.startAgain(spec) { "\(spec.title) restarted (restart \(count)), ready again" }
        }
    }

    /// Forgets an exited process (and kills what is left of its group);
    /// returns how it ended.
    private func reap(_ spec: ComponentSpec) -> String {
        guard let process = self.processes[spec.name] else { return "did not start at \(Self.clockTime())" }
        self.processes[spec.name] = nil
        self.groups.withLock { _ = $0.removeValue(forKey: spec.name) }
        ProcessTable.killGroup(process.processIdentifier)
        return "exited with status \(process.terminationStatus ?? -1) at \(Self.clockTime())"
    }

    /// Starts a component after the boot; a failure is noted, and the
    /// monitor's next round restarts it with back-off.
    private func startAgain(_ spec: ComponentSpec, ready message: () -> String) async {
        do {
            try await self.start(spec, restart: true)
            // Not into its log: the new process writes there now, at its own offset.
            self.observer(.message(message()))
        } catch {
            if let running = self.processes[spec.name] {
                await self.terminate(spec, running)
            }
            if Task.isCancelled || self.stopping { return }
            let reason = (error as? HarnessError)?.description.split(separator: "\n").first.map(String.init) ?? "\(error)"
            self.note(spec, "\(spec.title) did not start again: \(reason)")
        }
    }

    /// Whether `swapctl stop` holds the component down (a marker file in the state folder).
    private nonisolated func isHeld(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: self.layout.heldMarker(name).path)
    }

    /// Stops a held component like `down` would and waits until it is
    /// released. Returns false when the whole stack stops meanwhile.
    private func hold(_ spec: ComponentSpec) async -> Bool {
        if let process = self.processes[spec.name] {
            self.update(spec.name) { $0.status = .stopping; $0.detail = "stopping (`swapctl stop`)" }
            await self.terminate(spec, process)
            self.processes[spec.name] = nil
        }
        self.update(spec.name) { component in
            component.status = .stopped
            component.process = nil
            component.detail = "stopped by `swapctl stop`; `swapctl start \(spec.name)` starts it again"
        }
        self.note(spec, "\(spec.title) stopped by `swapctl stop`")
        while self.isHeld(spec.name) {
            try? await Task.sleep(for: .milliseconds(100))
            if Task.isCancelled || self.stopping { return false }
        }
        return true
    }

    /// A line in the component's own log (written while it is down) and for the observer.
    private func note(_ spec: ComponentSpec, _ message: String) {
        LogFiles.append("[swapctl \(Self.clockTime())] \(message)\n", to: spec.launch.logFile)
        self.observer(.message(message))
    }

    // MARK: Stop

    /// Stops every component in reverse dependency order (a component stops
    /// once all that depend on it have), each with its stop signal and, after
    /// the grace period, SIGKILL to its process group; then releases the
    /// state folder. Safe to call more than once.
    public func stop() async {
        if let stopTask {
            await stopTask.value
            return
        }
        let task = Task { await self.performStop() }
        self.stopTask = task
        await task.value
    }

    /// ``stop()``, then removes the state folder (what `swapctl down` does).
    public func down() async {
        await self.stop()
        try? FileManager.default.removeItem(at: self.layout.folder)
    }

    /// SIGKILL to every child's process group at once (a second Ctrl-C).
    public nonisolated func forceKill() {
        for group in self.groups.withLock({ Array($0.values) }) { ProcessTable.killGroup(group) }
    }

    private func performStop() async {
        self.stopping = true
        if self.state.phase != .failed { self.state.phase = .stopping }
        self.publish()
        let running = Array(self.monitors.values)
        self.monitors = [:]
        for monitor in running { monitor.cancel() }
        for monitor in running { await monitor.value }
        var dependents: [String: [String]] = [:]
        for spec in self.plan.components {
            for dependency in spec.dependencies { dependents[dependency, default: []].append(spec.name) }
        }
        await withTaskGroup(of: Void.self) { group in
            for spec in self.plan.components {
                let waitFor = dependents[spec.name] ?? []
                group.addTask {
                    while await self.anyRunning(waitFor) { try? await Task.sleep(for: .milliseconds(10)) }
                    await self.stopComponent(spec)
                }
            }
        }
        if self.state.phase == .stopping { self.state.phase = .stopped }
        self.publish()
        self.lock.release()
    }

    private func anyRunning(_ names: [String]) -> Bool {
        names.contains { self.processes[$0] != nil }
    }

    private func stopComponent(_ spec: ComponentSpec) async {
        guard let process = self.processes[spec.name] else {
            if let status = self.state.component(spec.name)?.status, [.ready, .starting, .restarting].contains(status) {
                self.update(spec.name) { $0.status = .stopped; $0.process = nil }
            }
            return
        }
        // A component that failed keeps saying so; its process (if any) still goes.
        let failed = self.state.component(spec.name)?.status == .failed
        if !failed { self.update(spec.name) { $0.status = .stopping } }
        await self.terminate(spec, process)
        self.processes[spec.name] = nil
        self.update(spec.name) { component in
            if component.status == .stopping { component.status = .stopped }
            component.process = nil
        }
    }

    private func terminate(_ spec: ComponentSpec, _ process: ChildProcess) async {
        let pid = process.processIdentifier
        if process.isRunning {
            kill(pid, spec.launch.stopSignal)
            kill(pid, SIGCONT)
            let deadline = ContinuousClock.now + self.configuration.stopGracePeriod
            while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning {
                self.note(spec, "\(spec.title) did not stop within \(DurationText.format(self.configuration.stopGracePeriod)); killing it")
                ProcessTable.killGroup(pid)
                _ = await process.waitForExit(timeout: .seconds(10))
            }
        }
        // Workers a master left behind share its process group.
        ProcessTable.killGroup(pid)
        self.groups.withLock { _ = $0.removeValue(forKey: spec.name) }
    }

    // MARK: State

    private func update(_ name: String, _ change: (inout ComponentState) -> Void) {
        guard let index = self.state.components.firstIndex(where: { $0.name == name }) else { return }
        change(&self.state.components[index])
        self.publish()
    }

    private func publish() {
        do {
            try StateFile.write(self.state, to: self.layout.stateFile)
        } catch {
            self.observer(.message("cannot write state: \(error)"))
        }
        self.observer(.updated(self.state))
    }

    private func elapsedMilliseconds() -> Int {
        Int((ContinuousClock.now - self.bootStart).totalMilliseconds)
    }

    private nonisolated func relative(_ url: URL) -> String {
        let root = self.configuration.root.path + "/"
        return url.path.hasPrefix(root) ? String(url.path.dropFirst(root.count)) : url.path
    }

    static func clockTime() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: Date())
    }
}
