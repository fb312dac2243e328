import ArgumentParser
import Foundation
import SwapTopology

struct SecretsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets",
        abstract: "Manage development secret files (never committed).",
        subcommands: [Init.self]
    )

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create secrets/<name> with a random value for every generated secret that has no file yet."
        )

        @OptionGroup var options: TopologyOptions

        @Option(help: "The environment whose secrets to create.")
        var env: String = "dev"

        @Option(help: "The folder for the secret files (default: secrets/ beside the topology).")
        var directory: String?

        func run() throws {
            let loader = TopologyLoader(topologyPath: options.topology)
            let result = loader.load(environment: env)
            Console.report(result.diagnostics)
            guard let topology = result.topology, !result.hasErrors else { throw CommandFailure.topology() }
            let folder = directory.map { URL(fileURLWithPath: $0) } ?? loader.root.appendingPathComponent("secrets")
            let report = try SecretFiles.create(for: topology, in: folder)
            for name in report.created { print("created \(folder.lastPathComponent)/\(name)") }
            for name in report.kept { print("kept    \(folder.lastPathComponent)/\(name) (exists)") }
            for name in report.manual { print("needed  \(folder.lastPathComponent)/\(name): no generator; write its value by hand") }
            if topology.target == .compose, topology.ingress.tls == .selfSigned {
                let created = try SelfSignedCertificate.create(in: folder.appendingPathComponent("certs"), domain: topology.ingress.domain ?? "localhost")
                print(created ? "created \(folder.lastPathComponent)/certs/fullchain.pem and privkey.pem (self-signed)" : "kept    \(folder.lastPathComponent)/certs (exists)")
            }
        }
    }
}

/// Random secret files, mode 0600, in a folder that is git-ignored.
public enum SecretFiles {
    public struct Report: Sendable {
        public var created: [String] = []
        public var kept: [String] = []
        public var manual: [String] = []
    }

    public static func create(for topology: Topology, in folder: URL) throws -> Report {
        let manager = FileManager.default
        try manager.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var report = Report()
        for secret in topology.secrets {
            let url = folder.appendingPathComponent(secret.name)
            if manager.fileExists(atPath: url.path) {
                report.kept.append(secret.name)
                continue
            }
            guard let format = secret.generate else {
                report.manual.append(secret.name)
                continue
            }
            let value = try randomValue(format)
            guard manager.createFile(atPath: url.path, contents: Data(value.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CommandFailure(code: 1, message: "error: cannot write \(url.path)")
            }
            report.created.append(secret.name)
        }
        return report
    }

    /// Characters from the system's CSPRNG, without modulo bias.
    public static func randomValue(_ format: SecretFormat) throws -> String {
        let alphabet: [Character]
        switch format.alphabet {
        case .hex: alphabet = Array("0123456789abcdef")
        case .alnum: alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        case .base64: alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        }
        var generator = SystemRandomNumberGenerator()
        return String((0..<format.length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}

/// The self-signed certificate nginx serves in the dev compose environment
/// (mounted from secrets/certs, so the private key never enters generated/).
enum SelfSignedCertificate {
    /// Returns false when both files already exist.
    static func create(in folder: URL, domain: String) throws -> Bool {
        let manager = FileManager.default
        let certificate = folder.appendingPathComponent("fullchain.pem")
        let key = folder.appendingPathComponent("privkey.pem")
        if manager.fileExists(atPath: certificate.path), manager.fileExists(atPath: key.path) { return false }
        try manager.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "825",
            "-keyout", key.path, "-out", certificate.path,
            "-subj", "/CN=\(domain)", "-addext", "subjectAltName=DNS:\(domain),DNS:localhost,IP:127.0.0.1",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailure(code: 1, message: "error: openssl could not create the self-signed certificate in \(folder.path)")
        }
        try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key.path)
        return true
    }
}
