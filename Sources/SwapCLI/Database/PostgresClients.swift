import Foundation

/// PostgreSQL's client programs (psql, pg_dump, pg_restore), all from one
/// folder so that their versions match.
struct PostgresClients: Sendable {
    let directory: String

    /// `--bin-dir`, else `SWAP_PG_BINDIR` (script/env), else PostgreSQL 15's
    /// Debian folder, else the first folder on PATH that has pg_dump.
    static func locate(_ explicit: String?) throws -> PostgresClients {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let explicit { candidates = [explicit] } else {
            if let configured = environment["SWAP_PG_BINDIR"], !configured.isEmpty { candidates.append(configured) }
            candidates.append("/usr/lib/postgresql/15/bin")
            candidates += (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        }
        let tools = ["psql", "pg_dump", "pg_restore"]
        for folder in candidates where tools.allSatisfy({ FileManager.default.isExecutableFile(atPath: "\(folder)/\($0)") }) {
            return PostgresClients(directory: folder)
        }
        throw CommandFailure(code: 1, message: explicit.map { "error: \($0) does not hold psql, pg_dump and pg_restore" }
            ?? "error: psql, pg_dump and pg_restore not found: install postgresql-client-15 (or newer) or pass --bin-dir")
    }

    func path(_ tool: String) -> String { "\(directory)/\(tool)" }

    /// `pg_dump --version`: e.g. 15 and "15.14".
    func version() throws -> (major: Int, text: String) {
        let run = try ToolRunner.run(path("pg_dump"), ["--version"])
        let words = run.stdout.split(whereSeparator: \.isWhitespace)
        let text = words.first { $0.first?.isNumber == true }.map(String.init) ?? "?"
        return (Int(text.split(separator: ".").first ?? "") ?? 0, text)
    }
}

/// What a finished tool printed.
struct ToolRun: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program to completion: arguments as a list (no shell), stdout and
/// stderr read concurrently so a full pipe never blocks it.
enum ToolRunner {
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil,
        streamStderr: Bool = false
    ) throws -> ToolRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        if merged["PGCONNECT_TIMEOUT"] == nil { merged["PGCONNECT_TIMEOUT"] = "15" }
        merged.merge(environment) { $1 }
        process.environment = merged
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = streamStderr ? FileHandle.standardError : err
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        let box = OutputBox()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { box.setOut(out.fileHandleForReading.readDataToEndOfFile()) }
        if !streamStderr {
            DispatchQueue.global().async(group: group) { box.setErr(err.fileHandleForReading.readDataToEndOfFile()) }
        }
        if let input {
            let data = Data(input.utf8)
            DispatchQueue.global().async(group: group) {
                inPipe.fileHandleForWriting.write(data)
                try? inPipe.fileHandleForWriting.close()
            }
        }
        process.waitUntilExit()
        group.wait()
        return ToolRun(status: process.terminationStatus, stdout: box.out, stderr: box.err)
    }

    /// Runs with the terminal's stdin, stdout and stderr (generated scripts).
    static func runAttached(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    private final class OutputBox: @unchecked Sendable {
        private let lock = NSLock()
        private var outData = Data()
        private var errData = Data()
        func setOut(_ data: Data) { lock.withLock { outData = data } }
        func setErr(_ data: Data) { lock.withLock { errData = data } }
        var out: String { lock.withLock { String(decoding: outData, as: UTF8.self) } }
        var err: String { lock.withLock { String(decoding: errData, as: UTF8.self) } }
    }
}
