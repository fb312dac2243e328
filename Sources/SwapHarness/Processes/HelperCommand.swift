import Foundation

/// Short helper commands (initdb, psql, openssl, swift build), run to
/// completion off the Swift concurrency threads.
enum HelperCommand {
    struct Failure: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var output: String

        var description: String {
            let tail = output.split(separator: "\n", omittingEmptySubsequences: false).suffix(30).joined(separator: "\n")
            return "`\(command)` failed with status \(status)" + (tail.isEmpty ? "" : ":\n\(tail)")
        }
    }

    /// Runs `command` and returns its combined stdout and stderr; throws
    /// ``Failure`` on a non-zero exit. `input` is written to its stdin (so a
    /// password in SQL never appears in a process list).
    @discardableResult
    static func run(
        _ command: [String], input: String? = nil, environment: [String: String]? = nil, in directory: URL? = nil
    ) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try blockingRun(command, input: input, environment: environment, directory: directory) })
            }
        }
    }

    /// Runs `command` with this process's stdout and stderr (build output the user should see).
    static func runInheritingOutput(_ command: [String], in directory: URL? = nil) async throws {
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result {
                    // Stops with swapctl: a Ctrl-C reaches only swapctl (the child leads its own process group).
                    let process = try makeProcess(try Launcher.command(LaunchSpec(
                        executable: command[0], arguments: Array(command.dropFirst()), workingDirectory: directory ?? URL(fileURLWithPath: "."),
                        logFile: URL(fileURLWithPath: "/dev/null"), deathSignal: SIGINT
                    )), environment: nil, directory: directory)
                    process.standardInput = FileHandle.nullDevice
                    try withUnblockedSignals { try process.run() }
                    process.waitUntilExit()
                    return process.terminationStatus
                })
            }
        }
        if status != 0 { throw Failure(command: command.joined(separator: " "), status: status, output: "") }
    }

    private static func blockingRun(_ command: [String], input: String?, environment: [String: String]?, directory: URL?) throws -> String {
        let process = try makeProcess(command, environment: environment, directory: directory)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let stdin = input == nil ? nil : Pipe()
        process.standardInput = stdin ?? FileHandle.nullDevice
        try withUnblockedSignals { try process.run() }
        if let stdin, let input {
            // Write on another queue: a child that prints a lot before reading stdin must not deadlock us.
            let writer = stdin.fileHandleForWriting
            DispatchQueue.global().async {
                try? writer.write(contentsOf: Data(input.utf8))
                try? writer.close()
            }
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(command: command.joined(separator: " "), status: process.terminationStatus, output: text)
        }
        return text
    }

    private static func makeProcess(_ command: [String], environment: [String: String]?, directory: URL?) throws -> Process {
        guard let executable = command.first else { throw Failure(command: "", status: -1, output: "empty command") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(command.dropFirst())
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = directory }
        return process
    }
}

/// Runs `body` (a spawn) with no signal blocked on this thread: a child
/// inherits the spawning thread's mask, and Dispatch threads block nearly
/// every signal, so a child spawned from one would ignore SIGTERM.
func withUnblockedSignals<Value>(_ body: () throws -> Value) rethrows -> Value {
    var empty = sigset_t()
    var previous = sigset_t()
    sigemptyset(&empty)
    pthread_sigmask(SIG_SETMASK, &empty, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    return try body()
}
