import Foundation
import SwapPostgres

/// The transactional outbox: an event is written to `swap_outbox` in the
/// same transaction as the state change it describes, so it exists exactly
/// when the change does; ``OutboxRelay`` then publishes it to Kafka.
///
/// ```swift
/// try await pool.withTransaction { connection in
///     try await connection.execute("UPDATE wallets SET ...")
///     try await Outbox.enqueue(event, on: connection)
/// }
/// ```
public enum Outbox {
    public static let owner = "outbox"

    /// `swap_outbox`: one row per event. `state` moves pending -> publishing
    /// (claimed by a relay, with `claim_token`, `claimed_at` and the
    /// partitions' high watermarks at claim time in `claim_offsets`) -> sent
    /// (with where it landed). Sent rows are deleted after the relay's retention.
    public static let migrations = MigrationSet(owner: owner, migrations: [
        Migration(version: 1, name: "create swap_outbox", sql: """
            CREATE TABLE swap_outbox (
                id bigserial PRIMARY KEY,
                event_id uuid NOT NULL UNIQUE,
                topic text NOT NULL,
                key text NOT NULL,
                type text NOT NULL,
                payload text NOT NULL,
                occurred_at timestamptz NOT NULL,
                state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'publishing', 'sent')),
                attempts integer NOT NULL DEFAULT 0,
                claim_token uuid,
                claimed_at timestamptz,
                claim_offsets jsonb,
                published_partition integer,
                published_offset bigint,
                created_at timestamptz NOT NULL DEFAULT now(),
                sent_at timestamptz
            );
            CREATE INDEX swap_outbox_unsent_idx ON swap_outbox (state, id) WHERE state <> 'sent';
            CREATE INDEX swap_outbox_key_idx ON swap_outbox (topic, key, id) WHERE state <> 'sent';
            CREATE INDEX swap_outbox_sent_at_idx ON swap_outbox (sent_at) WHERE state = 'sent';
            """),
    ])

    /// Adds `event` to the outbox. Call it inside the transaction that makes
    /// the change the event reports (``PostgresConnection/withTransaction``):
    /// outside one, the event is committed on its own.
    ///
    /// - Throws: ``PostgresError`` (`uniqueViolation` when the event id was already enqueued).
    public static func enqueue(_ event: EventEnvelope, on connection: PostgresConnection) async throws {
        let payload = String(decoding: try event.encodedValue(), as: UTF8.self)
        try await connection.execute("""
            INSERT INTO swap_outbox (event_id, topic, key, type, payload, occurred_at)
            VALUES (\(event.eventID), \(event.topic), \(event.key), \(event.type), \(payload), \(event.occurredAt))
            """)
    }
}
