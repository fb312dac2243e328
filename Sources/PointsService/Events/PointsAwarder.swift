import Foundation
import Logging
import ServiceKit
import SwapPostgres

/// Turns `transaction.completed` events into awards: the handler of the
/// service's ``KafkaEventConsumer``.
///
/// A completed transfer earns its sender `floor(amount / unit)` points.
/// Deposits, held transfers, other event types and awards of 0 are ignored.
/// The award, its ``ProcessedEvents`` mark and the `points.awarded` outbox
/// row commit in one transaction, so however often an event is delivered it
/// is awarded once.
public struct PointsAwarder: Sendable {
    /// The topic of `transaction.completed` events.
    public static let sourceTopic = "financial.transactions"
    /// The ``ProcessedEvents`` consumer name.
    static let consumerName = "points"

    let pool: PostgresPool
    let repository: any PointsRepository
    let unit: Int64
    let logger: Logger
    let committed: @Sendable () -> Void

    /// - Parameters:
    ///   - unit: minor units of money per point (POINTS_UNIT).
    ///   - committed: called after an award committed (wakes the outbox relay).
    public init(pool: PostgresPool, unit: Int, logger: Logger = Logger(label: "points.awarder"), committed: @escaping @Sendable () -> Void = {}) {
        self.pool = pool
        self.repository = PostgresPointsRepository(pool: pool)
        self.unit = Int64(unit)
        self.logger = logger
        self.committed = committed
    }

    /// Applies `event` once; returns the points awarded by this call (0 when
    /// the event earns nothing or was already applied).
    @discardableResult
    public func handle(_ event: EventEnvelope) async throws -> Int64 {
        guard event.type == "transaction.completed" else { return 0 }
        let transaction: CompletedTransaction
        do {
            transaction = try event.decodeData(CompletedTransaction.self)
        } catch {
            // Retrying cannot fix the data: log it and move on.
            logger.error("ignoring a transaction event whose data is malformed", metadata: ["event_id": "\(event.eventIDString)"])
            return 0
        }
        guard transaction.kind == "transfer", transaction.status == "completed", let sender = transaction.fromUserId,
              transaction.amount > 0 else { return 0 }
        let delta = transaction.amount / unit
        guard delta > 0 else { return 0 }
        let awarded = try await pool.withTransaction { connection -> Int64 in
            guard try await ProcessedEvents.markProcessed(event.eventID, consumer: Self.consumerName, on: connection) else { return 0 }
            _ = try await repository.award(delta, to: sender, sourceEvent: event.eventID, on: connection)
            return delta
        }
        if awarded > 0 {
            committed()
        }
        return awarded
    }
}
