import Foundation
import SwapTopology

/// The secrets of one run, as files (mode 0600) in the state folder: random
/// values per the topology's `generate` formats, written once per `up` and
/// never printed. A secret without a generator is copied from `secrets/`
/// beside the topology (`swapctl secrets init`, or written by hand) when a
/// running component needs it.
enum SecretStore {
    static func write(_ topology: Topology, needed: Set<String>, root: URL, into folder: URL) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for secret in topology.secrets {
            let file = folder.appendingPathComponent(secret.name)
            if manager.fileExists(atPath: file.path) { continue }
            let value: Data
            if let format = secret.generate {
                value = Data(randomValue(format).utf8)
            } else {
                let provided = root.appendingPathComponent("secrets").appendingPathComponent(secret.name)
                guard let contents = manager.contents(atPath: provided.path) else {
                    if needed.contains(secret.name) {
                        throw HarnessError.missingSecret(name: secret.name, expected: provided.path)
                    }
                    continue
                }
                value = contents
            }
            guard manager.createFile(atPath: file.path, contents: value, attributes: [.posixPermissions: 0o600]) else {
                throw HarnessError.io("cannot write \(file.path)")
            }
        }
    }

    /// The value of a secret file without a trailing newline (for PostgreSQL's role password).
    static func read(_ name: String, in folder: URL) throws -> String {
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else {
            throw HarnessError.io("secret file \(name) is missing from \(folder.path)")
        }
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }

    /// Characters from the system's CSPRNG, without modulo bias.
    static func randomValue(_ format: SecretFormat) -> String {
        let alphabet: [Character] = switch format.alphabet {
        case .hex: Array("0123456789abcdef")
        case .alnum: Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        case .base64: Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        }
        var generator = SystemRandomNumberGenerator()
        return String((0..<format.length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}
