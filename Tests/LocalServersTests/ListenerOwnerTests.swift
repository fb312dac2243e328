import Foundation
@testable import LocalServers
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Listener ownership")
struct ListenerOwnerTests {
    /// A listening socket of this process on 127.0.0.1; closed by the caller.
    private func listen() throws -> (socket: Int32, port: Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && Glibc.listen(descriptor, 1) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test("the listener on a port is told apart by the process that holds it, among hundreds of sockets")
    func ownerIsTheProcessHoldingTheListener() throws {
        // More sockets than fit in the first page of /proc/net/tcp, opened before the one looked for.
        let crowd = try (0..<300).map { _ in try listen().socket }
        defer { crowd.forEach { close($0) } }
        let (descriptor, port) = try listen()
        #expect(ListenerOwner.isListening(port: port, pid: getpid()))
        // Another process (this one's parent) answers on the port for nobody.
        #expect(!ListenerOwner.isListening(port: port, pid: getppid()))
        close(descriptor)
        #expect(!ListenerOwner.isListening(port: port, pid: getpid()), "nothing listens once it is closed")
    }

    @Test("a started broker owns its listener; a port another process holds is not the broker's")
    func aStartedBrokerOwnsItsListener() async throws {
        let broker = try await KafkaBroker.start()
        defer { Task { await broker.stop() } }
        let pid = try #require(broker.process?.processIdentifier)
        #expect(ListenerOwner.isListening(port: broker.port, pid: pid))
        let (descriptor, port) = try listen()
        defer { close(descriptor) }
        #expect(!ListenerOwner.isListening(port: port, pid: pid), "the broker does not own a port this test listens on")
    }

    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    @Test("a start that finds its port taken is tried again on a new port, at most three times")
    func portTakenMeansANewPort() async throws {
        var offered = [41001, 41002, 41003, 41004]
        var tried: [Int] = []
        let port = try await onFreePort(ports: { offered.removeFirst() }) { port in
            tried.append(port)
            if tried.count < 3 { throw Refused(description: "could not bind 127.0.0.1:\(port): Address already in use") }
            return port
        }
        #expect(port == 41003 && tried == [41001, 41002, 41003])

        tried = []
        await #expect(throws: Refused.self) {
            try await onFreePort(ports: { 42000 + tried.count }) { port -> Int in
                tried.append(port)
                throw Refused(description: "Io(Os { code: 98, kind: AddrInUse, message: \"Address in use\" })")
            }
        }
        #expect(tried.count == 3)

        tried = []
        await #expect(throws: Refused.self) {
            try await onFreePort(ports: { 43000 }) { port -> Int in
                tried.append(port)
                throw Refused(description: "permission denied")
            }
        }
        #expect(tried.count == 1, "other failures are not retried")
    }
}
