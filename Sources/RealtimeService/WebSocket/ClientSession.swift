import Foundation
import HummingbirdWebSocket
import Logging
import Metrics
import NIOCore
import NIOWebSocket
import ServiceKit
import Synchronization

/// What every socket of a replica shares.
struct SessionEnvironment: Sendable {
    let streams: any EventStreamRepository
    let presence: any PresenceRepository
    let hub: ConnectionHub
    /// Frames a socket may have waiting (OUTBOUND_QUEUE_LIMIT).
    let queueLimit: Int
    /// How long a full queue may stay full before the client is dropped (OUTBOUND_STALL_TIMEOUT).
    let stallTimeout: Duration
    /// How long a closing socket may take to answer our close frame before it is cut.
    let closeGrace: Duration
    let service: String
    let logger: Logger
}

/// One WebSocket: reads the user's stream from the last id it sent and
/// writes the frames, answers pings, and closes on request (shutdown, slow
/// client).
///
/// Three tasks run beside the read loop over the client's messages:
/// - the pump: on every wake-up (and once at the start, which replays
///   what followed `last_event_id`) it reads the entries after its cursor
///   into the queue, no more than the queue has room for. Reads start from
///   the last id queued, so a frame is neither sent twice nor skipped,
///   whether wake-ups come early, late, or several at once. If the queue
///   stays full for the stall timeout while the pump has entries to add,
///   the client is too slow: it is closed with 1013 (try again later) and
///   can resume with `last_event_id`.
/// - the writer: sends queued frames (NIO's writer suspends while the
///   socket is not writable, so memory per socket stays bounded).
/// - the closer: on a close request it sends the close frame, waits
///   briefly for the client's answer, then cuts the TCP connection (a
///   client that does not read never sees the frame).
final class ClientSession: Sendable {
    struct CloseRequest: Sendable {
        var code: WebSocketErrorCode
        var reason: String
    }

    let id: String
    let user: UUID
    private let channel: any Channel
    private let environment: SessionEnvironment
    private let queue: FrameQueue
    private let wakes: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    private let closeRequests: AsyncStream<CloseRequest>
    private let closeContinuation: AsyncStream<CloseRequest>.Continuation
    private let closeRequested = Mutex(false)

    static let tryAgainLater = WebSocketErrorCode.unknown(1013)

    init(id: String, user: UUID, channel: any Channel, environment: SessionEnvironment) {
        self.id = id
        self.user = user
        self.channel = channel
        self.environment = environment
        queue = FrameQueue(capacity: environment.queueLimit)
        (wakes, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (closeRequests, closeContinuation) = AsyncStream.makeStream(of: CloseRequest.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// New entries may wait in the user's stream.
    func wake() {
        wakeContinuation.yield(())
    }

    /// Closes the socket with `code` (the first request wins).
    func requestClose(code: WebSocketErrorCode, reason: String) {
        let first = closeRequested.withLock { requested in
            defer { requested = true }
            return !requested
        }
        if first { closeContinuation.yield(CloseRequest(code: code, reason: reason)) }
    }

    /// Serves the socket until it closes. `cursor` is the id after which frames are sent.
    func run(cursor: StreamID, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let logger = {
            var logger = environment.logger
            logger[metadataKey: "connection"] = "\(id)"
            logger[metadataKey: "user_id"] = "\(user.lowercaseString)"
            return logger
        }()
        guard environment.hub.register(self) else {
            try? await outbound.close(.goingAway, reason: "server shutting down")
            return
        }
        do {
            try await environment.presence.refresh([(user, id)])
        } catch {
            logger.warning("presence not recorded", metadata: ["error": "\(error)"])
        }
        logger.debug("socket open", metadata: ["cursor": "\(cursor)"])
        wake()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.pump(from: cursor, logger: logger) }
            group.addTask { await self.write(to: outbound) }
            group.addTask { await self.closeWhenAsked(outbound: outbound) }
            do {
                for try await message in inbound.messages(maxSize: 4096) {
                    guard case .text(let text) = message, Self.isPing(text) else { continue }
                    queue.offerPong()
                }
            } catch {
                logger.debug("socket read ended", metadata: ["error": "\(error)"])
            }
            group.cancelAll()
        }
        queue.finish()
        environment.hub.unregister(self)
        do {
            try await environment.presence.remove(user: user, connection: id)
        } catch {
            logger.warning("presence not cleared; it expires on its own", metadata: ["error": "\(error)"])
        }
        logger.debug("socket closed")
    }

    static func isPing(_ text: String) -> Bool {
        guard text.utf8.count <= 1024,
              let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
        else { return false }
        return object["type"] as? String == "ping"
    }

    private func pump(from start: StreamID, logger: Logger) async {
        var cursor = start
        var failures = 0
        for await _ in wakes {
            while !Task.isCancelled {
                guard await queue.waitForRoom(timeout: environment.stallTimeout) else {
                    if Task.isCancelled { return }
                    logger.warning("client too slow; disconnecting", metadata: ["queued": "\(queue.frames)"])
                    Counter(label: "swap_realtime_slow_client_disconnects_total", dimensions: [("service", environment.service)]).increment()
                    requestClose(code: Self.tryAgainLater, reason: "client too slow")
                    return
                }
                let limit = min(queue.room, 100)
                let entries: [(id: StreamID, frame: StoredFrame)]
                do {
                    entries = try await environment.streams.entries(of: user, after: cursor, limit: limit)
                    failures = 0
                } catch {
                    failures += 1
                    logger.warning("reading the event stream failed; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .milliseconds(min(5000, 100 << min(failures, 6))))
                    continue
                }
                for entry in entries {
                    queue.offer(entry.frame.json(id: entry.id.description))
                    cursor = entry.id
                }
                if entries.count < limit { break }
            }
        }
    }

    private func write(to outbound: WebSocketOutboundWriter) async {
        let sent = Counter(label: "swap_realtime_frames_sent_total", dimensions: [("service", environment.service)])
        for await item in queue.items {
            do {
                switch item {
                case .frame(let text):
                    try await outbound.writeTextMessage(text)
                    sent.increment()
                case .pong:
                    try await outbound.write(.text(#"{"type":"pong"}"#))
                }
            } catch {
                return
            }
            queue.written(item)
        }
    }

    private func closeWhenAsked(outbound: WebSocketOutboundWriter) async {
        for await request in closeRequests {
            // Sending the close frame waits while the socket is not
            // writable; it runs on its own so that the cut below happens anyway.
            let closing = Task { try? await outbound.close(request.code, reason: request.reason) }
            do {
                try await Task.sleep(for: environment.closeGrace)
            } catch {
                return  // the read loop ended: the client answered or went away
            }
            closing.cancel()
            channel.close(mode: .all, promise: nil)
            return
        }
    }
}
