import Foundation
import Glibc

private let streamSocket = Int32(SOCK_STREAM.rawValue)

/// How a component is checked, at boot (readiness) and by `swapctl status`
/// (health, probing now). Stored in state.json so another swapctl process
/// can probe the same way.
public struct HealthProbe: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// The port accepts TCP connections.
        case tcp
        /// `PING` answers `+PONG` (not `-LOADING` while the AOF replays).
        case redis
        /// PostgreSQL answers an SSLRequest (its protocol, not just a socket).
        case postgres
        /// `GET path` answers 2xx.
        case http
    }

    public var kind: Kind
    public var port: Int
    public var path: String?

    public init(kind: Kind, port: Int, path: String? = nil) {
        self.kind = kind
        self.port = port
        self.path = path
    }

    /// What the probe saw: healthy or not, and a short human text (`200`, `503`, `connection refused`).
    public struct Outcome: Sendable, Equatable {
        public var healthy: Bool
        public var detail: String
    }

    public func check(timeout: Duration = .seconds(2)) async -> Outcome {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: self.blockingCheck(timeout: timeout))
            }
        }
    }

    private func blockingCheck(timeout: Duration) -> Outcome {
        let socket: LoopbackSocket
        switch LoopbackSocket.connect(port: self.port, timeout: timeout) {
        case .connected(let connected): socket = connected
        case .refused(let reason): return Outcome(healthy: false, detail: reason)
        }
        defer { socket.close() }
        switch self.kind {
        case .tcp:
            return Outcome(healthy: true, detail: "accepting")
        case .redis:
            guard let reply = socket.exchange(Array("PING\r\n".utf8)) else { return Outcome(healthy: false, detail: "no answer") }
            let text = String(decoding: reply, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return Outcome(healthy: text.hasPrefix("+PONG"), detail: text.hasPrefix("+PONG") ? "PONG" : text)
        case .postgres:
            // SSLRequest: length 8, code 80877103. A PostgreSQL server answers one byte, 'S' or 'N'.
            let request: [UInt8] = [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F]
            guard let reply = socket.exchange(request), let first = reply.first else { return Outcome(healthy: false, detail: "no answer") }
            let ok = first == UInt8(ascii: "N") || first == UInt8(ascii: "S")
            return Outcome(healthy: ok, detail: ok ? "accepting" : "unexpected answer")
        case .http:
            let path = self.path ?? "/"
            let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(self.port)\r\nUser-Agent: swapctl\r\nAccept: */*\r\nConnection: close\r\n\r\n"
            guard let reply = socket.exchange(Array(request.utf8)) else { return Outcome(healthy: false, detail: "no answer") }
            let line = String(decoding: reply.prefix(while: { $0 != 13 && $0 != 10 }), as: UTF8.self)
            let parts = line.split(separator: " ")
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
                return Outcome(healthy: false, detail: "not HTTP")
            }
            return Outcome(healthy: (200..<300).contains(status), detail: "\(status)")
        }
    }
}

/// A blocking TCP connection to 127.0.0.1 with send/receive timeouts.
private struct LoopbackSocket {
    let descriptor: Int32

    enum Connection {
        case connected(LoopbackSocket)
        case refused(String)
    }

    static func connect(port: Int, timeout: Duration) -> Connection {
        let descriptor = socket(AF_INET, streamSocket, 0)
        guard descriptor >= 0 else { return .refused("socket() failed") }
        let seconds = max(1, Int(timeout.components.seconds))
        var interval = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let reason = errno == ECONNREFUSED ? "connection refused" : String(cString: strerror(errno))
            Glibc.close(descriptor)
            return .refused(reason)
        }
        return .connected(LoopbackSocket(descriptor: descriptor))
    }

    /// Sends `bytes` and returns what arrives before the peer pauses or closes (up to 4 KiB).
    func exchange(_ bytes: [UInt8]) -> [UInt8]? {
        let written = bytes.withUnsafeBytes { write(self.descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { return nil }
        var reply = [UInt8](repeating: 0, count: 4096)
        let count = reply.withUnsafeMutableBytes { read(self.descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return Array(reply[0..<count])
    }

    func close() {
        Glibc.close(self.descriptor)
    }
}
