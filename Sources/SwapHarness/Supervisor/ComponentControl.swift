import Foundation
import LocalServers
import SwapTopology

/// `swapctl stop|start|restart COMPONENT` from any swapctl process: a
/// marker file in the state folder (`held/<name>`) asks the running
/// supervisor to stop that component and keep it down; removing it lets
/// the supervisor start it again. The supervisor stays the only process
/// that launches or signals children; this side only writes markers and
/// follows state.json. A held component is not a crash: its restart count
/// does not change, and the other components keep running.
public enum ComponentControl {
    /// One component that reached the asked-for state.
    public struct Outcome: Sendable {
        public var name: String
        public var kind: ComponentKind
        /// It already was in that state; nothing was done.
        public var unchanged: Bool
        public var milliseconds: Int
    }

    /// The components `names` select, in state.json order: a component
    /// (`realtime.1`), a service with all its replicas (`realtime`), or a
    /// kind (`postgres`).
    public static func select(_ names: [String], in state: StackState) throws -> [ComponentState] {
        var selected: [String] = []
        for name in names {
            let matches = state.components.filter { $0.name == name || $0.group == name || $0.kind.rawValue == name }
            guard !matches.isEmpty else {
                throw HarnessError.unknownComponent(name, known: state.components.map(\.name))
            }
            selected += matches.map(\.name).filter { !selected.contains($0) }
        }
        return state.components.filter { selected.contains($0.name) }
    }

    /// Stops the selected components (their stop signal, then SIGKILL after
    /// the grace period) and keeps them down; returns once state.json says
    /// each is stopped.
    public static func stop(_ names: [String], in folder: URL, timeout: Duration = .seconds(60)) async throws -> [Outcome] {
        let layout = StateLayout(folder: folder)
        let targets = try select(names, in: try runningState(layout))
        try FileManager.default.createDirectory(at: layout.held, withIntermediateDirectories: true)
        for target in targets {
            let marker = layout.heldMarker(target.name)
            guard FileManager.default.createFile(atPath: marker.path, contents: Data()) else {
                throw HarnessError.io("cannot write \(marker.path)")
            }
        }
        return try await wait(for: targets, in: layout, timeout: timeout, verb: "stop") { $0.status == .stopped && $0.process == nil }
    }

    /// Releases the selected components; returns once state.json says each is
    /// ready again. Throws when one fails to start.
    public static func start(_ names: [String], in folder: URL, timeout: Duration = .seconds(120)) async throws -> [Outcome] {
        let layout = StateLayout(folder: folder)
        let targets = try select(names, in: try runningState(layout))
        for target in targets {
            let marker = layout.heldMarker(target.name)
            if FileManager.default.fileExists(atPath: marker.path) {
                try FileManager.default.removeItem(at: marker)
            }
        }
        return try await wait(for: targets, in: layout, timeout: timeout, verb: "start") { $0.status == .ready }
    }

    /// The state of a stack whose supervisor runs and has finished booting.
    private static func runningState(_ layout: StateLayout) throws -> StackState {
        guard let state = StateFile.read(layout.stateFile), StateLock.isHeld(layout.lockFile) else {
            throw HarnessError.notRunning(stateFolder: layout.folder.path)
        }
        guard state.phase == .ready else {
            throw HarnessError.unsupported("the stack in \(layout.folder.path) is \(state.phase.rawValue), not ready; try again once `swapctl status` says ready")
        }
        return state
    }

    private static func wait(
        for targets: [ComponentState], in layout: StateLayout, timeout: Duration, verb: String,
        until reached: (ComponentState) -> Bool
    ) async throws -> [Outcome] {
        let start = ContinuousClock.now
        let deadline = start + timeout
        var outcomes: [String: Outcome] = [:]
        for target in targets where reached(target) {
            outcomes[target.name] = Outcome(name: target.name, kind: target.kind, unchanged: true, milliseconds: 0)
        }
        while outcomes.count < targets.count {
            guard StateLock.isHeld(layout.lockFile), let state = StateFile.read(layout.stateFile), state.phase == .ready else {
                throw HarnessError.notRunning(stateFolder: layout.folder.path)
            }
            for target in targets where outcomes[target.name] == nil {
                guard let current = state.component(target.name) else { continue }
                if reached(current) {
                    let elapsed = Int((ContinuousClock.now - start).totalMilliseconds)
                    outcomes[target.name] = Outcome(name: target.name, kind: target.kind, unchanged: false, milliseconds: elapsed)
                } else if verb == "start", current.status == .restarting, let detail = current.detail, current.lastExit != nil,
                          current.restarts > target.restarts {
                    // It exited while starting; the supervisor keeps retrying with back-off.
                    throw HarnessError.componentFailed(
                        component: target.name, reason: "did not start: \(current.lastExit ?? "exited") (\(detail))",
                        logFile: current.logFiles.first, logTail: current.logFiles.first.map { LogFiles.tail(URL(fileURLWithPath: $0), lines: 25) } ?? ""
                    )
                }
            }
            if outcomes.count == targets.count { break }
            if ContinuousClock.now >= deadline {
                let pending = targets.filter { outcomes[$0.name] == nil }.map(\.name)
                throw HarnessError.unsupported("\(pending.joined(separator: ", ")) did not \(verb) within \(DurationText.format(timeout)); see `swapctl status` and `swapctl logs`")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return targets.compactMap { outcomes[$0.name] }
    }
}
