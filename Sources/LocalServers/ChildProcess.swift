import Foundation
import Synchronization

/// A long-running child process whose output goes to a log file.
///
/// Stop it with ``terminate(gracePeriod:)``; ``kill()``, ``pause()`` and
/// ``resume()`` are for fault tests. A `ChildProcess` released while its
/// process still runs kills it, and an `atexit` handler stops any child still
/// running when this process exits.
public final class ChildProcess: Sendable {
    /// A name for messages, such as `postgres`.
    public let name: String
    /// The operating-system process id.
    public let processIdentifier: Int32
    /// Where stdout and stderr go (appended to, so restarts keep history).
    public let logFile: URL
    /// The signal that asks this program to shut down cleanly.
    public let stopSignal: Int32
    private let exitStatus: ExitStatusBox
    // Keeps Foundation's monitoring of the child alive until it exits.
    private let process: Mutex<Process?>

    private init(name: String, process: Process, logFile: URL, stopSignal: Int32, exitStatus: ExitStatusBox) {
        self.name = name
        self.processIdentifier = process.processIdentifier
        self.logFile = logFile
        self.stopSignal = stopSignal
        self.exitStatus = exitStatus
        self.process = Mutex(process)
    }

    deinit {
        if self.isRunning {
            Foundation.kill(self.processIdentifier, SIGKILL)
        }
    }

    /// Starts `executable` with `arguments`, stdout and stderr appended to `logFile`.
    public static func launch(
        name: String,
        executable: String,
        arguments: [String],
        environment: [String: String]? = nil,
        workingDirectory: URL? = nil,
        logFile: URL,
        stopSignal: Int32 = SIGTERM
    ) throws(LocalServerError) -> ChildProcess {
        let command = ([executable] + arguments).joined(separator: " ")
        if !FileManager.default.fileExists(atPath: logFile.path) {
            _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        }
        let log: FileHandle
        do {
            log = try FileHandle(forWritingTo: logFile)
            try log.seekToEnd()
        } catch {
            throw .launchFailed(command: command, reason: "cannot open \(logFile.path): \(error)")
        }
        defer { try? log.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        let exitStatus = ExitStatusBox()
        process.terminationHandler = { finished in
            exitStatus.record(finished.terminationStatus)
            ExitCleanup.forget(pid: finished.processIdentifier)
        }
        do {
            try withDefaultSignalMask { try process.run() }
        } catch {
            throw .launchFailed(command: command, reason: "\(error)")
        }
        ExitCleanup.remember(pid: process.processIdentifier, stopSignal: stopSignal)
        return ChildProcess(name: name, process: process, logFile: logFile, stopSignal: stopSignal, exitStatus: exitStatus)
    }

    /// Whether the process has not exited yet (a paused process is running).
    public var isRunning: Bool { self.exitStatus.status == nil }

    /// The exit status (or terminating signal) once the process has exited.
    public var terminationStatus: Int32? { self.exitStatus.status }

    /// Sends `signal` unless the process has already exited.
    public func send(signal: Int32) {
        guard self.isRunning else { return }
        Foundation.kill(self.processIdentifier, signal)
    }

    /// `kill -9`: the process dies without cleaning up, as in a crash.
    public func kill() {
        self.send(signal: SIGKILL)
    }

    /// Freezes the process (SIGSTOP): it keeps its sockets but answers nothing.
    public func pause() {
        self.send(signal: SIGSTOP)
    }

    /// Thaws a paused process (SIGCONT).
    public func resume() {
        self.send(signal: SIGCONT)
    }

    /// Waits for the process to exit and returns its status.
    @discardableResult
    public func waitForExit() async throws -> Int32 {
        while true {
            if let status = self.exitStatus.status { return status }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits up to `timeout`; `nil` when the process is still running.
    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = self.exitStatus.status { return status }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return self.exitStatus.status
    }

    /// Sends ``stopSignal`` (and SIGCONT, in case it is paused), then
    /// SIGKILL if it has not exited after `gracePeriod`. Returns the exit status.
    @discardableResult
    public func terminate(gracePeriod: Duration = .seconds(10)) async -> Int32 {
        if let status = self.exitStatus.status { return status }
        self.send(signal: self.stopSignal)
        self.send(signal: SIGCONT)
        if let status = await self.waitForExit(timeout: gracePeriod) { return status }
        self.kill()
        return await self.waitForExit(timeout: .seconds(30)) ?? SIGKILL
    }

    /// The last `lines` lines of the log, for error messages.
    public func logTail(lines: Int = 40) -> String {
        LogTail.read(self.logFile, lines: lines)
    }
}

/// The exit status, written by Foundation's termination handler.
private final class ExitStatusBox: Sendable {
    private let value = Mutex<Int32?>(nil)
    var status: Int32? { self.value.withLock { $0 } }
    func record(_ status: Int32) { self.value.withLock { $0 = status } }
}

enum LogTail {
    /// The last `lines` lines of a file, reading at most its last 64 KiB.
    static func read(_ file: URL, lines: Int) -> String {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return "(no log at \(file.path))" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > 65_536 ? size - 65_536 : 0
        try? handle.seek(toOffset: start)
        let data = (try? handle.readToEnd()) ?? Data()
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// Runs `body` (a spawn) with no signals blocked on the calling thread.
///
/// A spawned child inherits the spawning thread's signal mask, and Dispatch
/// and Swift concurrency threads block nearly every signal: a server spawned
/// from one would never see SIGTERM (redis-server then ignores `terminate`).
/// PostgreSQL resets its own mask; most programs do not.
func withDefaultSignalMask<Value>(_ body: () throws -> Value) rethrows -> Value {
    var empty = sigset_t()
    var previous = sigset_t()
    sigemptyset(&empty)
    pthread_sigmask(SIG_SETMASK, &empty, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    return try body()
}
