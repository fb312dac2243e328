import Foundation
import Testing

/// Runs the built `swapctl` binary as a user would.
enum Swapctl {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The binary beside the test bundle (`swift test` builds every product).
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("swapctl")
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], in directory: URL = packageRoot) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes concurrently so a full pipe never blocks the child.
        let errData = Task.detached { err.fileHandleForReading.readDataToEndOfFile() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stderrData = try awaitResult(errData)
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: stderrData, as: UTF8.self))
    }

    private static func awaitResult(_ task: Task<Data, Never>) throws -> Data {
        let semaphore = DispatchSemaphore(value: 0)
        let box = DataBox()
        Task.detached {
            box.data = await task.value
            semaphore.signal()
        }
        semaphore.wait()
        return box.data
    }

    private final class DataBox: @unchecked Sendable { var data = Data() }

    /// A copy of the real topology and environments in a temporary folder.
    static func copyOfProject() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swapctl-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("topology.yaml"), to: folder.appendingPathComponent("topology.yaml"))
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("environments"), to: folder.appendingPathComponent("environments"))
        return folder
    }

    /// Every regular file under a folder, relative path -> contents.
    static func files(under folder: URL) -> [String: String] {
        var files: [String: String] = [:]
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else { return [:] }
        let base = folder.standardizedFileURL.path + "/"
        for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            let path = url.standardizedFileURL.path
            files[String(path.dropFirst(base.count))] = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        }
        return files
    }
}
