import Foundation

/// A fresh folder under the system temporary directory holding one server's
/// data, sockets and logs; registered for removal at exit.
enum StateDirectory {
    static func create(prefix: String) throws(LocalServerError) -> URL {
        let base = FileManager.default.temporaryDirectory.path
        var template = Array("\(base)/swap-\(prefix)-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard created != nil else {
            throw .stateDirectory(path: base, reason: "mkdtemp failed, errno \(errno)")
        }
        let path = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let url = URL(fileURLWithPath: path, isDirectory: true)
        ExitCleanup.remember(directory: url)
        return url
    }

    static func remove(_ url: URL) {
        try? FileManager.default.removeItem(at: url)
        ExitCleanup.forget(directory: url)
    }

    /// Gives `url` and everything under it to `user` (PostgreSQL refuses a
    /// data folder it does not own).
    static func chown(_ url: URL, to user: SystemUser) throws(LocalServerError) {
        var paths = [url.path]
        if let enumerator = FileManager.default.enumerator(atPath: url.path) {
            while let relative = enumerator.nextObject() as? String {
                paths.append(url.appendingPathComponent(relative).path)
            }
        }
        for path in paths where Foundation.chown(path, user.uid, user.gid) != 0 {
            throw .stateDirectory(path: path, reason: "chown to \(user.name) failed, errno \(errno)")
        }
    }
}

/// An account to run a server as when this process is root.
struct SystemUser: Sendable {
    let name: String
    let uid: uid_t
    let gid: gid_t

    static func named(_ name: String) -> SystemUser? {
        guard let entry = getpwnam(name) else { return nil }
        return SystemUser(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }

    static var isRoot: Bool { getuid() == 0 }

    /// The command prefixed so that it runs as this user. `setpriv` execs
    /// the program in place, so the child's pid is the server's own and
    /// signals (SIGSTOP, SIGKILL) reach it; `runuser` forks, so it is only a
    /// fallback.
    func wrap(_ command: [String]) -> [String] {
        if let setpriv = Executable.find("setpriv") {
            return [setpriv, "--reuid=\(self.uid)", "--regid=\(self.gid)", "--init-groups", "--"] + command
        }
        return ["/usr/sbin/runuser", "-u", self.name, "--"] + command
    }
}

/// Locating programs and running short helper commands.
enum Executable {
    /// The first executable called `name` on PATH or in the sbin folders.
    static func find(_ name: String, extraDirectories: [String] = []) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = extraDirectories + path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        for directory in directories {
            let candidate = (directory as NSString).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs a command to completion on Dispatch's global queue and returns its
    /// combined output; throws when it exits non-zero.
    static func run(
        _ command: [String],
        currentDirectory: URL? = nil
    ) async throws(LocalServerError) -> String {
        let result: Result<String, LocalServerError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: self.blockingRun(command, currentDirectory: currentDirectory))
            }
        }
        return try result.get()
    }

    private static func blockingRun(_ command: [String], currentDirectory: URL?) -> Result<String, LocalServerError> {
        let display = command.joined(separator: " ")
        guard let executable = command.first else {
            return .failure(.launchFailed(command: display, reason: "empty command"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(command.dropFirst())
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let pipe = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try withDefaultSignalMask { try process.run() }
        } catch {
            return .failure(.launchFailed(command: display, reason: "\(error)"))
        }
        // Read before waiting: a full pipe would otherwise block the child forever.
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let tail = output.split(separator: "\n").suffix(40).joined(separator: "\n")
            return .failure(.commandFailed(command: display, status: process.terminationStatus, output: tail))
        }
        return .success(output)
    }
}

/// Polls `probe` until it holds, failing early if `process` exits.
func waitUntilReady(
    _ process: ChildProcess,
    timeout: Duration,
    probe: () async -> Bool
) async throws -> Void {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let status = process.terminationStatus {
            throw LocalServerError.exitedDuringStartup(server: process.name, status: status, logTail: process.logTail())
        }
        if await probe() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw LocalServerError.notReady(server: process.name, timeout: timeout, logTail: process.logTail())
}
