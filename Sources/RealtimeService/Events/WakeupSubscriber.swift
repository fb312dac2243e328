import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import SwapRedis

/// Listens for wake-ups on `swap:rt:user:*` (one pattern subscription per
/// replica) and wakes the sockets this replica holds for that user; a
/// swift-service-lifecycle `Service`.
///
/// Every replica sees every wake-up (they are a few bytes; sockets re-read
/// their stream from their own cursor, so an extra or coalesced wake-up is
/// harmless). Wake-ups published while the subscription was down are lost,
/// so after every (re)subscription every socket re-reads its stream.
final class WakeupSubscriber: Service, Sendable {
    private let redis: RedisPool
    private let hub: ConnectionHub
    private let logger: Logger
    private let subscribed = Atomic<Bool>(false)

    init(redis: RedisPool, hub: ConnectionHub, logger: Logger) {
        self.redis = redis
        self.hub = hub
        self.logger = logger
    }

    /// For `/ready`: the subscription is up.
    var isSubscribed: Bool { subscribed.load(ordering: .relaxed) }

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.subscribeUntilCancelled() }
        subscribed.store(false, ordering: .relaxed)
    }

    private func subscribeUntilCancelled() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let messages = try await redis.subscribe(patterns: [RealtimeKeys.wakeupPattern])
                subscribed.store(true, ordering: .relaxed)
                failures = 0
                hub.wakeAll()
                for try await message in messages {
                    if let user = RealtimeKeys.user(ofWakeupChannel: message.channel) { hub.wake(user) }
                }
                subscribed.store(false, ordering: .relaxed)
            } catch {
                subscribed.store(false, ordering: .relaxed)
                failures += 1
                logger.warning("wake-up subscription failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(min(5000, 100 << min(failures, 6))))
            }
        }
    }
}
