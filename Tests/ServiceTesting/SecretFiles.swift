import Foundation

/// A temporary folder of secret files, as services read their secrets
/// through `*_FILE` settings (`JWT_SECRET_FILE`, `DATABASE_URL_FILE`, ...).
public struct SecretFiles: Sendable {
    public let folder: URL

    /// A new, not yet created folder whose name starts with `prefix`.
    public init(_ prefix: String = "secrets") {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    }

    /// Writes `contents` to the file `name` and returns its path, for a `*_FILE` setting.
    @discardableResult
    public func write(_ name: String, _ contents: String) throws -> String {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent(name)
        try Data(contents.utf8).write(to: file)
        return file.path
    }

    /// Removes the folder and every file in it.
    public func remove() {
        try? FileManager.default.removeItem(at: folder)
    }
}

/// Runs `body` with a fresh secret folder, removed afterwards, also when `body` throws.
public func withSecretFiles<Value>(_ prefix: String, _ body: (SecretFiles) async throws -> Value) async throws -> Value {
    let secrets = SecretFiles(prefix)
    defer { secrets.remove() }
    return try await body(secrets)
}
