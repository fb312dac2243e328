import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceKit

/// `GET /ws?token=<access token>[&last_event_id=<id>]`.
///
/// The upgrade path (``shouldUpgrade(_:channel:logger:)``) and the plain
/// HTTP route share ``admission(_:)``: a missing, invalid or expired token
/// is 401 and a malformed `last_event_id` is 400, both as JSON and without
/// an upgrade (see ``GatedWebSocketChannel``). A valid request that is not
/// a WebSocket upgrade is 426.
struct WebSocketController: Sendable {
    let auth: AuthMiddleware
    let environment: SessionEnvironment

    struct Admission: Sendable {
        var user: AuthenticatedUser
        var lastEventID: StreamID?
    }

    static let path = "/ws"

    /// Checks the query of a `/ws` request.
    func admission(_ uri: URI) -> Result<Admission, APIError> {
        let query = uri.queryParameters
        guard let token = query["token"].map(String.init), !token.isEmpty else {
            return .failure(.unauthorized("missing access token (?token=)"))
        }
        let user: AuthenticatedUser
        do {
            user = try auth.user(fromToken: token)
        } catch let error as APIError {
            return .failure(error)
        } catch {
            return .failure(.unauthorized())
        }
        var lastEventID: StreamID?
        if let text = query["last_event_id"] {
            guard let id = StreamID(text) else {
                return .failure(.badRequest("last_event_id must be the id of a received frame, like 1714566600000-0", code: "invalid_last_event_id"))
            }
            lastEventID = id
        }
        return .success(Admission(user: user, lastEventID: lastEventID))
    }

    /// For ``UpgradeGate``: only admitted `/ws` requests may upgrade.
    func admits(_ uri: String) -> Bool {
        let parsed = URI(uri)
        guard parsed.path == Self.path, case .success = admission(parsed) else { return false }
        return true
    }

    /// The plain-HTTP side of `/ws`: the errors, or 426 when the request is fine but not an upgrade.
    func addRoutes(to router: Router<ServiceRequestContext>) {
        router.get(RouterPath(stringLiteral: Self.path)) { request, _ -> Response in
            switch admission(request.uri) {
            case .failure(let error):
                throw error
            case .success:
                var headers = HTTPFields()
                headers[.upgrade] = "websocket"
                throw APIError(.upgradeRequired, code: "upgrade_required", message: "open this URL as a WebSocket", headers: headers)
            }
        }
    }

    /// Upgrades admitted requests. The cursor (the stream id after which
    /// frames are sent) is fixed before the 101 goes out: `last_event_id`
    /// (never beyond the newest entry), else the newest entry, so every
    /// event appended after the client saw the upgrade is delivered.
    func shouldUpgrade(
        _ head: HTTPRequest, channel: any Channel, logger: Logger
    ) async -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let uri = URI(head.path ?? "")
        guard uri.path == Self.path, case .success(let admission) = admission(uri) else { return .dontUpgrade }
        let environment = self.environment
        let user = admission.user.id
        let cursor: StreamID?
        do {
            let tail = try await environment.streams.tail(of: user)
            cursor = admission.lastEventID.map { min($0, tail) } ?? tail
        } catch {
            logger.warning("cannot read the event stream; refusing the socket", metadata: ["error": "\(error)"])
            cursor = nil
        }
        return .upgrade([:]) { inbound, outbound, _ in
            guard let cursor else {
                try? await outbound.close(ClientSession.tryAgainLater, reason: "temporarily unavailable")
                return
            }
            let session = ClientSession(id: environment.hub.makeConnectionID(), user: user, channel: channel, environment: environment)
            await session.run(cursor: cursor, inbound: inbound, outbound: outbound)
        }
    }
}
