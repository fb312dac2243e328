import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// hummingbird-websocket answers an upgrade it refuses with an empty 400 and
/// closes the connection. API.md wants a JSON 401 (or 400) instead, so this
/// child channel puts ``UpgradeGate`` in front of the upgrade handler: an
/// upgrade request the gate does not admit loses its `Upgrade` header and
/// reaches the router as a plain request, whose `GET /ws` route renders the
/// error in the API.md shape, with its request id.
struct GatedWebSocketChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value

    let inner: HTTP1WebSocketUpgradeChannel
    /// Whether an upgrade request for this URI (path and query) may go ahead.
    let admits: @Sendable (String) -> Bool

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let upgrader = try operations.handler(type: NIOTypedHTTPServerUpgradeHandler<HTTP1WebSocketUpgradeChannel.UpgradeResult>.self)
            try operations.addHandler(UpgradeGate(admits: admits), position: .before(upgrader))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// Looks at the first request of a connection (the only one that can be
/// upgraded) and removes itself: an upgrade request that is not admitted is
/// passed on without `Upgrade` and the `upgrade` connection option.
final class UpgradeGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let admits: @Sendable (String) -> Bool

    init(admits: @escaping @Sendable (String) -> Bool) {
        self.admits = admits
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        if head.headers.contains(name: "upgrade"), !admits(head.uri) {
            head.headers.remove(name: "upgrade")
            let options = head.headers[canonicalForm: "connection"].filter { $0.lowercased() != "upgrade" }
            head.headers.remove(name: "connection")
            for option in options { head.headers.add(name: "connection", value: String(option)) }
            context.fireChannelRead(wrapInboundOut(.head(head)))
        } else {
            context.fireChannelRead(data)
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
