import Foundation

/// `swapctl up --detach`: the front end starts a supervisor process of its
/// own (`swapctl up --supervise`) that owns every child, restarts crashed
/// ones and stops them on SIGTERM (`swapctl down`), then follows the boot
/// through state.json and returns once it is ready or has failed.
public enum DetachedBoot {
    /// Starts the supervisor in the background (its own process group, so a
    /// Ctrl-C on this terminal never reaches it), its output appended to
    /// `logs/swapctl.log` in the state folder, which must have been
    /// prepared with ``StackControl/prepare(_:)``.
    public static func launch(swapctl: String, arguments: [String], stateFolder: URL, workingDirectory: URL) throws -> Process {
        let log = StackControl.supervisorLog(in: stateFolder)
        let descriptor = open(log.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw HarnessError.io("cannot open \(log.path): \(String(cString: strerror(errno)))") }
        let output = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        defer { try? output.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: swapctl)
        process.arguments = arguments
        process.currentDirectoryURL = workingDirectory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        try withUnblockedSignals { try process.run() }
        return process
    }

    /// Follows state.json until the boot `bootID` is ready (returns its
    /// state) or failed (throws its error); also fails when the supervisor
    /// exits without a word (the tail of its output says why).
    public static func wait(
        for bootID: String, supervisor: Process, stateFolder: URL, onUpdate: (StackState) -> Void
    ) async throws -> StackState {
        while true {
            if let state = StackControl.state(in: stateFolder), state.bootID == bootID {
                onUpdate(state)
                switch state.phase {
                case .ready: return state
                case .failed, .stopped, .stopping:
                    throw HarnessError.unsupported(state.error ?? "the boot stopped before the stack was ready")
                case .booting: break
                }
            }
            if !supervisor.isRunning {
                // One last look: it may have written its final state and exited.
                if let state = StackControl.state(in: stateFolder), state.bootID == bootID, state.phase == .ready { return state }
                let tail = LogFiles.tail(StackControl.supervisorLog(in: stateFolder), lines: 20)
                throw HarnessError.unsupported(
                    "the supervisor exited with status \(supervisor.terminationStatus) before the stack was ready"
                        + (tail.isEmpty ? "" : ":\n\(tail)")
                )
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
