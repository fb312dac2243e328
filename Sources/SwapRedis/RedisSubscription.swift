import Logging

/// A message received through `SUBSCRIBE` or `PSUBSCRIBE`.
public struct RedisMessage: Sendable, Hashable {
    /// The channel it was published to.
    public let channel: String
    /// The pattern that matched, for pattern subscriptions.
    public let pattern: String?
    /// The payload bytes.
    public let payload: [UInt8]

    /// The payload as UTF-8 text.
    public var string: String { String(decoding: self.payload, as: UTF8.self) }
}

/// Runs one subscription on a dedicated connection.
enum RedisSubscription {
    enum Kind {
        case channels, patterns

        var command: String { self == .channels ? "SUBSCRIBE" : "PSUBSCRIBE" }
        var confirmation: String { self == .channels ? "subscribe" : "psubscribe" }
    }

    /// Subscribes, waits for every confirmation, then returns a stream fed by
    /// a read loop on the connection's worker thread.
    static func open(
        _ names: [String],
        kind: Kind,
        configuration: RedisConfiguration,
        bufferLimit: Int,
        logger: Logger,
        onEnd: @escaping @Sendable () -> Void
    ) async throws -> (stream: AsyncThrowingStream<RedisMessage, any Error>, handle: HiredisHandle) {
        guard !names.isEmpty else { throw RedisError(kind: .invalidCommand, details: "nothing to subscribe to") }
        var subscriberConfiguration = configuration
        // A subscriber waits for messages indefinitely; silence is not failure.
        subscriberConfiguration.commandTimeout = nil
        let connection = try await RedisConnection.connect(configuration: subscriberConfiguration, logger: logger)
        let handle = connection.handle
        do {
            try await connection.runOnWorker { () throws(RedisError) in
                try handle.append(([kind.command] + names).map { Array($0.utf8) })
                for _ in names {
                    let reply = try handle.readReply()
                    guard reply.array?.first?.string == kind.confirmation else {
                        throw RedisError(kind: .unexpectedReply, details: "\(kind.command) was not confirmed")
                    }
                }
            }
        } catch {
            await connection.close()
            throw error
        }

        let (stream, continuation) = AsyncThrowingStream.makeStream(
            of: RedisMessage.self, throwing: (any Error).self, bufferingPolicy: .bufferingNewest(max(1, bufferLimit))
        )
        continuation.onTermination = { _ in handle.interrupt() }
        // The loop owns the connection from here on; it stays on the worker thread until the socket closes.
        Task {
            defer { onEnd() }
            do {
                try await connection.runOnWorker { () throws(RedisError) in
                    try readLoop(handle: handle, kind: kind, continuation: continuation, logger: logger)
                }
            } catch {
                if handle.wasInterrupted {
                    continuation.finish()
                } else {
                    continuation.finish(throwing: error)
                }
            }
            await connection.close()
        }
        return (stream, handle)
    }

    private static func readLoop(
        handle: HiredisHandle,
        kind: Kind,
        continuation: AsyncThrowingStream<RedisMessage, any Error>.Continuation,
        logger: Logger
    ) throws(RedisError) {
        var dropped = 0
        while true {
            let reply = try handle.readReply()
            guard let message = Self.message(from: reply) else { continue }
            switch continuation.yield(message) {
            case .terminated:
                return
            case .dropped:
                dropped += 1
                if dropped.isPowerOfTwo {
                    logger.warning("redis subscriber is slow; messages dropped", metadata: ["dropped": "\(dropped)"])
                }
            case .enqueued:
                break
            @unknown default:
                break
            }
        }
    }

    /// `message channel payload` or `pmessage pattern channel payload`;
    /// confirmations and other replies are not messages.
    private static func message(from reply: RedisValue) -> RedisMessage? {
        guard let parts = reply.array, let type = parts.first?.string else { return nil }
        switch type {
        case "message" where parts.count == 3:
            guard let channel = parts[1].string, let payload = parts[2].bytes else { return nil }
            return RedisMessage(channel: channel, pattern: nil, payload: payload)
        case "pmessage" where parts.count == 4:
            guard let pattern = parts[1].string, let channel = parts[2].string, let payload = parts[3].bytes else {
                return nil
            }
            return RedisMessage(channel: channel, pattern: pattern, payload: payload)
        default:
            return nil
        }
    }
}

extension Int {
    fileprivate var isPowerOfTwo: Bool { self > 0 && self & (self - 1) == 0 }
}
