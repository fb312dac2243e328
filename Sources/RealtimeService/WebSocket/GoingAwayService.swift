import Logging
import NIOWebSocket
import ServiceLifecycle

/// Runs last and stops first: on graceful shutdown it closes every socket
/// with 1001 (going away), so clients reconnect to another replica and
/// resume with `last_event_id`, and waits (up to `timeout`) until they are
/// gone before the HTTP server, the consumer and the pools stop.
struct GoingAwayService: Service {
    let hub: ConnectionHub
    let timeout: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        let open = hub.count
        hub.goAway(code: .goingAway, reason: "server shutting down")
        if await hub.waitUntilEmpty(timeout: timeout) {
            if open > 0 { logger.info("closed every socket for shutdown", metadata: ["sockets": "\(open)"]) }
        } else {
            logger.warning("sockets still open after the shutdown timeout", metadata: ["sockets": "\(hub.count)"])
        }
    }
}
