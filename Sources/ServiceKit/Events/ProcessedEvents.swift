import Foundation
import SwapPostgres

/// Remembers which events a consumer has applied, so that Kafka's
/// at-least-once delivery has effect once: call ``markProcessed(_:consumer:on:)``
/// inside the transaction that applies the event and skip the work when it
/// returns false. A redelivered event then finds its mark (or waits for the
/// first delivery's transaction and then finds it).
///
/// ```swift
/// try await pool.withTransaction { connection in
///     guard try await ProcessedEvents.markProcessed(event.eventID, consumer: "points", on: connection) else { return }
///     try await connection.execute("UPDATE points SET ...")
/// }
/// ```
public enum ProcessedEvents {
    public static let owner = "processed_events"

    public static let migrations = MigrationSet(owner: owner, migrations: [
        Migration(version: 1, name: "create swap_processed_events", sql: """
            CREATE TABLE swap_processed_events (
                consumer text NOT NULL,
                event_id uuid NOT NULL,
                processed_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (consumer, event_id)
            );
            CREATE INDEX swap_processed_events_processed_at_idx ON swap_processed_events (processed_at);
            """),
    ])

    /// Records that `consumer` applied `eventID`; true the first time, false
    /// when it was already recorded (the caller then changes nothing).
    public static func markProcessed(_ eventID: UUID, consumer: String, on connection: PostgresConnection) async throws -> Bool {
        try await connection.execute("""
            INSERT INTO swap_processed_events (consumer, event_id) VALUES (\(consumer), \(eventID))
            ON CONFLICT (consumer, event_id) DO NOTHING
            """) == 1
    }

    /// Forgets marks older than `age` (longer than the topics' retention, so
    /// no redelivery can still arrive); returns how many were deleted.
    @discardableResult
    public static func deleteOlder(than age: Duration, on pool: PostgresPool) async throws -> Int {
        let seconds = Double(age.components.seconds)
        return try await pool.execute("""
            DELETE FROM swap_processed_events WHERE processed_at < now() - make_interval(secs => \(seconds))
            """)
    }
}
