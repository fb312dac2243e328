import Foundation
import Testing

/// Runs the real validators (docker, nginx, promtool, shellcheck, actionlint)
/// that script/bootstrap installs; a missing tool fails the test with that hint.
enum ExternalTool {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func path(_ name: String) -> String? {
        let folders = [packageRoot.appendingPathComponent(".tools/bin").path]
            + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
            + ["/usr/local/bin", "/usr/bin", "/usr/sbin", "/bin", "/sbin"]
        return folders.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    struct Result {
        var status: Int32
        var output: String
    }

    /// Runs a tool to completion, capturing stdout and stderr together.
    static func run(_ name: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws -> Result {
        guard let executable = path(name) else {
            throw ToolMissing(name: name)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    struct ToolMissing: Error, CustomStringConvertible {
        var name: String
        var description: String { "\(name) is not installed: run script/bootstrap" }
    }

    /// Writes files into a fresh temporary folder and returns it.
    static func scratch(_ files: [(path: String, contents: String)]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swap-test-\(UUID().uuidString)")
        for file in files {
            let url = folder.appendingPathComponent(file.path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(file.contents.utf8).write(to: url)
        }
        return folder
    }
}
