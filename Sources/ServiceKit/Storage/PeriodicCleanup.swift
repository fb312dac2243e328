import Logging
import ServiceLifecycle
import SwapPostgres

/// Deletes what has outlived its use every `interval` (expired idempotency
/// keys, old processed-event marks) until graceful shutdown; a
/// swift-service-lifecycle `Service`. A failing pass is logged and tried
/// again at the next interval.
public struct PeriodicCleanup: Service {
    let name: String
    let interval: Duration
    let logger: Logger
    let work: @Sendable () async throws -> Int

    public init(name: String, interval: Duration, logger: Logger = Logger(label: "swap.cleanup"), work: @escaping @Sendable () async throws -> Int) {
        self.name = name
        self.interval = interval
        self.logger = logger
        self.work = work
    }

    /// Expired `Idempotency-Key` records.
    public static func idempotencyKeys(_ pool: PostgresPool, interval: Duration = .seconds(600), logger: Logger = Logger(label: "swap.cleanup")) -> PeriodicCleanup {
        PeriodicCleanup(name: "idempotency keys", interval: interval, logger: logger) {
            try await IdempotencyStore.deleteExpired(on: pool)
        }
    }

    /// ``ProcessedEvents`` marks older than `age` (keep it above the topics' retention).
    public static func processedEvents(
        _ pool: PostgresPool, olderThan age: Duration = .seconds(14 * 24 * 3600), interval: Duration = .seconds(3600),
        logger: Logger = Logger(label: "swap.cleanup")
    ) -> PeriodicCleanup {
        PeriodicCleanup(name: "processed events", interval: interval, logger: logger) {
            try await ProcessedEvents.deleteOlder(than: age, on: pool)
        }
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown { [name, interval, logger, work] in
            while true {
                try await Task.sleep(for: interval)
                do {
                    let deleted = try await work()
                    if deleted > 0 { logger.info("cleanup", metadata: ["what": "\(name)", "deleted": "\(deleted)"]) }
                } catch {
                    logger.warning("cleanup failed", metadata: ["what": "\(name)", "error": "\(String(reflecting: error))"])
                }
            }
        }
    }
}
