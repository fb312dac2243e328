import Foundation
import Glibc
import Testing

/// Certificates, free ports and background processes for the nginx tests.
enum NginxTestTools {
    /// A throwaway CA plus a leaf it signs for `hosts` and 127.0.0.1, written as
    /// `ca.pem`, `certs/fullchain.pem` and `certs/privkey.pem` under `folder`.
    static func makeCertificates(in folder: URL, hosts: [String] = ["localhost"]) throws {
        let certs = folder.appendingPathComponent("certs")
        try FileManager.default.createDirectory(at: certs, withIntermediateDirectories: true)
        try Data("""
            subjectAltName=\(hosts.map { "DNS:\($0)" }.joined(separator: ",")),IP:127.0.0.1
            basicConstraints=CA:FALSE
            keyUsage=digitalSignature,keyEncipherment
            extendedKeyUsage=serverAuth

            """.utf8).write(to: folder.appendingPathComponent("leaf.ext"))
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Swap test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-keyout", "ca.key", "-out", "ca.pem"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=\(hosts[0])", "-keyout", "certs/privkey.pem", "-out", "leaf.csr"],
            ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
             "-extfile", "leaf.ext", "-out", "certs/fullchain.pem"],
        ]
        for step in steps {
            let result = try ExternalTool.run("openssl", step, in: folder)
            try #require(result.status == 0, "openssl \(step.joined(separator: " ")):\n\(result.output)")
        }
    }

    /// A loopback port nobody listens on right now.
    static func freePort() throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socketFD >= 0)
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) == 0 && getsockname(socketFD, $0, &length) == 0 }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A long-running child process, stopped (and waited for) by `stop()`.
    final class Background {
        let process = Process()
        let log: URL

        init(_ tool: String, _ arguments: [String], in folder: URL, log name: String) throws {
            guard let executable = ExternalTool.path(tool) else { throw ExternalTool.ToolMissing(name: tool) }
            log = folder.appendingPathComponent(name)
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.currentDirectoryURL = folder
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        /// SIGTERM, then SIGKILL after 5 s. Children of a test inherit the
        /// signal mask of a Dispatch thread, where SIGTERM is blocked: a child
        /// that does not unblock it (nginx does) only ever dies of SIGKILL.
        func stop() {
            guard process.isRunning else { return }
            process.terminate()
            for _ in 0..<50 where process.isRunning { usleep(100_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }
}
