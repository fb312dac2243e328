import Foundation
import HummingbirdWSClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOWebSocket
import ServiceTesting
import Synchronization

/// A WebSocket client that records every text frame it receives.
final class TestSocket: Sendable {
    private let received = Mutex<[String]>([])
    private let outbound = Mutex<WebSocketOutboundWriter?>(nil)
    private let closeSignal: AsyncStream<Void>
    private let closeContinuation: AsyncStream<Void>.Continuation
    private let task = Mutex<Task<WebSocketCloseFrame?, any Error>?>(nil)

    private init() {
        (closeSignal, closeContinuation) = AsyncStream.makeStream(of: Void.self)
    }

    /// Connects and returns once the upgrade succeeded; throws when it did not.
    static func connect(_ url: String) async throws -> TestSocket {
        let socket = TestSocket()
        let opened = NIOLockedValueBox<CheckedContinuation<Void, any Error>?>(nil)
        let logger = {
            var logger = Logger(label: "test-socket")
            logger.logLevel = .critical
            return logger
        }()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            opened.withLockedValue { $0 = continuation }
            let task = Task {
                do {
                    let frame = try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 20), logger: logger) { inbound, outbound, _ in
                        socket.outbound.withLock { $0 = outbound }
                        opened.withLockedValue { $0 }?.resume()
                        opened.withLockedValue { $0 = nil }
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask {
                                for await _ in socket.closeSignal {
                                    try await outbound.close(.normalClosure, reason: nil)
                                    return
                                }
                            }
                            for try await message in inbound.messages(maxSize: 1 << 22) {
                                if case .text(let text) = message { socket.received.withLock { $0.append(text) } }
                            }
                            group.cancelAll()
                        }
                    }
                    let waiting = opened.withLockedValue { state in
                        defer { state = nil }
                        return state
                    }
                    waiting?.resume(throwing: TestSocketError.notUpgraded)
                    return frame
                } catch {
                    let waiting = opened.withLockedValue { state in
                        defer { state = nil }
                        return state
                    }
                    waiting?.resume(throwing: error)
                    throw error
                }
            }
            socket.task.withLock { $0 = task }
        }
        return socket
    }

    /// Every text frame so far, parsed.
    var frames: [[String: Any]] {
        received.withLock { $0 }.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Waits until at least `count` frames arrived; returns them.
    func waitForFrames(_ count: Int, timeout: Duration = .seconds(30)) async throws -> [[String: Any]] {
        let arrived = await eventually(timeout: timeout) { received.withLock { $0.count } >= count }
        guard arrived else {
            throw TestSocketError.timedOut(expected: count, received: received.withLock { $0 })
        }
        return frames
    }

    func send(_ text: String) async throws {
        guard let writer = outbound.withLock({ $0 }) else { throw TestSocketError.notUpgraded }
        try await writer.write(.text(text))
    }

    /// Closes from the client side and returns the server's close frame.
    @discardableResult
    func close() async throws -> WebSocketCloseFrame? {
        closeContinuation.yield(())
        return try await closed()
    }

    /// Waits until the server closed the socket; returns its close frame.
    func closed() async throws -> WebSocketCloseFrame? {
        guard let task = task.withLock({ $0 }) else { return nil }
        return try await task.value
    }
}

enum TestSocketError: Error {
    case notUpgraded
    case timedOut(expected: Int, received: [String])
}

/// A client that completes the upgrade and then never reads: NIO's
/// automatic reading is off and the receive buffer small, so the server's
/// writes back up.
final class StalledClient: Sendable {
    private let channel: any Channel
    private let collector: Collector

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    static func connect(port: Int, token: String) async throws -> StalledClient {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.autoRead, value: false)
            .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 4096)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        let client = StalledClient(channel: channel, collector: collector)
        let request = "GET /ws?token=\(token) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try await channel.writeAndFlush(ByteBuffer(string: request))
        let upgraded = await eventually(timeout: .seconds(10)) {
            if collector.text.contains("\r\n\r\n") { return true }
            channel.read()
            return false
        }
        guard upgraded, collector.text.hasPrefix("HTTP/1.1 101") else {
            try? await channel.close()
            throw TestSocketError.notUpgraded
        }
        return client
    }

    /// Starts reading again and waits until the server's side is closed.
    func drainUntilClosed(timeout: Duration) async -> Bool {
        channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in self.channel.read() }
        return await eventually(timeout: timeout) { !channel.isActive }
    }

    func close() async {
        try? await channel.close()
    }

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        private let bytes = NIOLockedValueBox<[UInt8]>([])

        var text: String { String(decoding: bytes.withLockedValue { Array($0.prefix(4096)) }, as: UTF8.self) }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            // Keep the handshake response only; later bytes are counted out.
            if let chunk = buffer.readBytes(length: min(buffer.readableBytes, 4096)) {
                bytes.withLockedValue { if $0.count < 4096 { $0.append(contentsOf: chunk) } }
            }
        }
    }
}

/// One HTTP/1.1 exchange over a plain TCP connection, for requests
/// AsyncHTTPClient will not send as written (an upgrade request that the
/// server answers without upgrading).
func rawHTTPExchange(port: Int, target: String, headers: [(String, String)]) async throws -> (status: Int, headers: [(String, String)], body: Data) {
    let collector = RawResponseCollector()
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
        }
        .connect(host: "127.0.0.1", port: port)
        .get()
    defer { channel.close(promise: nil) }
    var request = "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
    for (name, value) in headers { request += "\(name): \(value)\r\n" }
    request += "\r\n"
    try await channel.writeAndFlush(ByteBuffer(string: request))
    var parsed: (status: Int, headers: [(String, String)], body: Data)?
    _ = await eventually(timeout: .seconds(10)) {
        parsed = collector.response()
        return parsed != nil
    }
    guard let parsed else { throw TestFailure("no complete HTTP response to \(target)") }
    return parsed
}

final class RawResponseCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    private let bytes = NIOLockedValueBox<[UInt8]>([])

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        bytes.withLockedValue { $0.append(contentsOf: buffer.readableBytesView) }
    }

    /// The response once its head and `Content-Length` bytes of body arrived.
    func response() -> (status: Int, headers: [(String, String)], body: Data)? {
        let data = bytes.withLockedValue { $0 }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = (0..<max(0, data.count - 3)).first(where: { Array(data[$0..<$0 + 4]) == separator }) else { return nil }
        let lines = String(decoding: data[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else { return nil }
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        let body = data.dropFirst(end + 4)
        guard body.count >= length else { return nil }
        return (status, headers, Data(body.prefix(length)))
    }
}
