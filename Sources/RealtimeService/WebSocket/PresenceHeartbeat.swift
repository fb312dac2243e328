import Logging
import ServiceLifecycle

/// Keeps this replica's connections counted as online: refreshes their
/// presence entries every `ttl / 3` until graceful shutdown.
struct PresenceHeartbeat: Service {
    let presence: any PresenceRepository
    let hub: ConnectionHub
    let ttl: Duration
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: ttl / 3)
                do {
                    try await presence.refresh(hub.connections())
                } catch {
                    logger.warning("presence heartbeat failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
