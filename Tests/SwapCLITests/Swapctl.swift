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

    /// Waits only on Dispatch threads, never on a task of Swift's cooperative
    /// pool (two threads on a two-core machine), so tests running it
    /// concurrently cannot starve each other into a deadlock.
    static func run(_ arguments: [String], in directory: URL = packageRoot) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = Output()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) { output.set(\.stdout, out.fileHandleForReading.readDataToEndOfFile()) }
        DispatchQueue.global().async(group: readers) { output.set(\.stderr, err.fileHandleForReading.readDataToEndOfFile()) }
        process.waitUntilExit()
        readers.wait()
        return Result(status: process.terminationStatus, stdout: output.text(\.stdout), stderr: output.text(\.stderr))
    }

    private final class Output: @unchecked Sendable {
        private let lock = NSLock()
        var stdout = Data()
        var stderr = Data()

        func set(_ path: ReferenceWritableKeyPath<Output, Data>, _ data: Data) { lock.withLock { self[keyPath: path] = data } }
        func text(_ path: KeyPath<Output, Data>) -> String { lock.withLock { String(decoding: self[keyPath: path], as: UTF8.self) } }
    }

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
