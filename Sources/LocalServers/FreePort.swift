import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
private let streamSocket = Int32(SOCK_STREAM.rawValue)
#elseif canImport(Darwin)
import Darwin
private let streamSocket = SOCK_STREAM
#endif

/// Picks free TCP ports on 127.0.0.1 for servers to listen on.
///
/// A port is free when returned, not reserved: something else could take it
/// before the server binds it. To make that rare, ports come from below the
/// kernel's ephemeral range (`net.ipv4.ip_local_port_range`), where outgoing
/// connections, which tests open by the thousand, never get their local
/// port; a port is never handed out twice by one process; and each is
/// checked bindable first.
public enum FreePort {
    private static let handedOut = Mutex<Set<Int>>([])

    /// A port nothing on 127.0.0.1 is bound to right now.
    public static func next() throws(LocalServerError) -> Int {
        let range = candidates
        for _ in 0..<2_000 {
            let port = Int.random(in: range)
            guard handedOut.withLock({ $0.insert(port).inserted }) else { continue }
            if try bindable(port) != nil { return port }
        }
        // Nearly all of the range is in use: let the kernel choose.
        guard let port = try bindable(0) else { throw .noFreePort(reason: "bind() to an ephemeral port failed, errno \(errno)") }
        return port
    }

    /// `count` distinct free ports.
    public static func next(_ count: Int) throws(LocalServerError) -> [Int] {
        var ports: [Int] = []
        while ports.count < count {
            let port = try next()
            if !ports.contains(port) { ports.append(port) }
        }
        return ports
    }

    /// From 10000 up to the start of the ephemeral range (32768 by default on Linux).
    static let candidates: ClosedRange<Int> = {
        let fallback = 10_000...32_767
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8) else { return fallback }
        let bounds = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
        guard bounds.count == 2 else { return fallback }
        if bounds[0] > 10_000 { return 10_000...(bounds[0] - 1) }
        if bounds[1] < 60_000 { return (bounds[1] + 1)...65_535 }
        return fallback
        #else
        return fallback
        #endif
    }()

    /// Binds a probe socket (with SO_REUSEADDR, as servers do) to `port`;
    /// returns the port it got, or nil when it is taken.
    private static func bindable(_ port: Int) throws(LocalServerError) -> Int? {
        let descriptor = socket(AF_INET, streamSocket, 0)
        guard descriptor >= 0 else { throw .noFreePort(reason: "socket() failed, errno \(errno)") }
        defer { close(descriptor) }
        var reuse: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw .noFreePort(reason: "getsockname() failed, errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Loopback TCP checks used for readiness, run on Dispatch's global queue so
/// that a slow connect never holds a Swift concurrency thread.
enum TCPProbe {
    /// Whether something accepts connections on 127.0.0.1:`port`.
    static func accepts(port: Int) async -> Bool {
        await self.exchange(port: port, send: nil, expectPrefix: nil)
    }

    /// Connects, sends `send`, and checks that the reply starts with `expectPrefix`.
    static func exchange(port: Int, send: [UInt8]?, expectPrefix: [UInt8]?) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: self.blockingExchange(port: port, send: send, expectPrefix: expectPrefix))
            }
        }
    }

    private static func blockingExchange(port: Int, send: [UInt8]?, expectPrefix: [UInt8]?) -> Bool {
        let descriptor = socket(AF_INET, streamSocket, 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return false }
        guard let send else { return true }
        let written = send.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == send.count else { return false }
        guard let expectPrefix else { return true }
        var reply = [UInt8](repeating: 0, count: max(64, expectPrefix.count))
        let count = reply.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count >= expectPrefix.count else { return false }
        return Array(reply[0..<expectPrefix.count]) == expectPrefix
    }
}

private func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    #if canImport(Darwin)
    address.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
    #endif
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return address
}

/// What the servers print when their port is taken: PostgreSQL's and
/// Redis's "Address already in use", Tansu's "Address in use".
private func isAddressInUse(_ error: any Error) -> Bool {
    let text = String(describing: error)
    return text.contains("Address already in use") || text.contains("Address in use")
}

/// Starts a server on a free port, again on a new one (up to `attempts`
/// times) when the port was taken between picking and binding it, which
/// tests starting many servers at once make happen.
func onFreePort<Server>(
    attempts: Int = 3, ports next: () throws -> Int = { try FreePort.next() }, _ start: (Int) async throws -> Server
) async throws -> Server {
    var attempt = 1
    while true {
        do {
            return try await start(try next())
        } catch where attempt < attempts && isAddressInUse(error) {
            attempt += 1
        }
    }
}
