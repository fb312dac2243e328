import Foundation
import SwapPostgres

/// An outbox row a relay holds a claim on.
struct ClaimedEvent: Sendable, Equatable {
    var id: Int64
    var eventID: UUID
    var topic: String
    var key: String
    var type: String
    var payload: String
    /// Each partition's high watermark when the row was claimed: anything
    /// published for this row landed at or after it. `nil` when unknown.
    var claimOffsets: [Int: Int64]?

    var eventIDString: String { eventID.lowercaseString }
}

/// The relay's SQL on `swap_outbox`. Every change to a claimed row is
/// conditional on the relay's claim token, so a relay that lost its claim
/// changes nothing.
struct OutboxStore: Sendable {
    let pool: PostgresPool
    /// Only rows of these topics, or all when nil.
    let topics: [String]?

    private var topicArray: String? {
        topics.map { "{" + $0.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }.joined(separator: ",") + "}" }
    }

    /// Topics with pending rows.
    func pendingTopics() async throws -> [String] {
        let rows = try await pool.query("""
            SELECT DISTINCT topic FROM swap_outbox
            WHERE state = 'pending' AND (\(topicArray)::text[] IS NULL OR topic = ANY(\(topicArray)::text[]))
            """)
        return try rows.map { try $0.decode(String.self, column: 0) }.sorted()
    }

    /// Claims up to `limit` pending rows in id order, skipping rows whose
    /// (topic, key) has an earlier row still being published, so one key's
    /// events go out in order even with several relays. Claims are
    /// serialised by an advisory lock (they take milliseconds).
    func claim(token: UUID, limit: Int, offsets: [String: [Int: Int64]]) async throws -> [ClaimedEvent] {
        let offsetsJSON = String(decoding: try JSONEncoder().encode(offsets.mapValues { $0.reduce(into: [String: Int64]()) { $0[String($1.key)] = $1.value } }), as: UTF8.self)
        let rows = try await pool.withTransaction { connection in
            try await connection.advisoryTransactionLock(named: "swap_outbox:claim")
            return try await connection.query("""
                WITH next AS (
                    SELECT o.id FROM swap_outbox o
                    WHERE o.state = 'pending'
                      AND (\(topicArray)::text[] IS NULL OR o.topic = ANY(\(topicArray)::text[]))
                      AND NOT EXISTS (
                          SELECT 1 FROM swap_outbox p
                          WHERE p.state = 'publishing' AND p.topic = o.topic AND p.key = o.key AND p.id < o.id)
                    ORDER BY o.id
                    LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE swap_outbox o
                SET state = 'publishing', claim_token = \(token), claimed_at = now(), attempts = o.attempts + 1,
                    claim_offsets = (\(offsetsJSON)::jsonb) -> o.topic
                FROM next WHERE o.id = next.id
                RETURNING o.id, o.event_id, o.topic, o.key, o.type, o.payload, o.claim_offsets::text
                """)
        }
        return try Self.events(rows)
    }

    /// Claims rows whose outcome is unknown: this relay's own after a failed
    /// or abandoned send; those of a relay whose liveness lock is gone (its
    /// process died: ``RelayLiveness``); and those of a relay that stopped
    /// renewing its claim for `claimTimeout` (stuck, or cut off from the
    /// database).
    func takeOver(token: UUID, claimTimeout: Duration, limit: Int) async throws -> [ClaimedEvent] {
        let seconds = Double(claimTimeout.components.seconds) + Double(claimTimeout.components.attoseconds) / 1e18
        let rows = try await pool.query("""
            WITH stale AS (
                SELECT id FROM swap_outbox o
                WHERE state = 'publishing'
                  AND (claim_token = \(token)
                       OR claimed_at < now() - make_interval(secs => \(seconds))
                       OR NOT EXISTS (
                           SELECT 1 FROM pg_locks l
                           WHERE l.locktype = 'advisory' AND l.granted
                             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                             AND l.classid = \(RelayLiveness.namespace)::oid
                             AND l.objid = hashtext(o.claim_token::text)::oid AND l.objsubid = 2))
                  AND (\(topicArray)::text[] IS NULL OR topic = ANY(\(topicArray)::text[]))
                ORDER BY id
                LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
            )
            UPDATE swap_outbox o
            SET claim_token = \(token), claimed_at = now(), attempts = o.attempts + 1
            FROM stale WHERE o.id = stale.id
            RETURNING o.id, o.event_id, o.topic, o.key, o.type, o.payload, o.claim_offsets::text
            """)
        return try Self.events(rows)
    }

    /// Renews the claim on `ids`; returns those still held.
    func renew(_ ids: [Int64], token: UUID) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        let rows = try await pool.query("""
            UPDATE swap_outbox SET claimed_at = now()
            WHERE claim_token = \(token) AND state = 'publishing' AND id = ANY(\(Self.array(ids))::bigint[])
            RETURNING id
            """)
        return Set(try rows.map { try $0.decode(Int64.self, column: 0) })
    }

    /// Records where the event landed; false when the claim was lost.
    func markSent(_ id: Int64, token: UUID, partition: Int, offset: Int64) async throws -> Bool {
        try await pool.execute("""
            UPDATE swap_outbox
            SET state = 'sent', sent_at = now(), published_partition = \(partition), published_offset = \(offset)
            WHERE id = \(id) AND claim_token = \(token) AND state = 'publishing'
            """) == 1
    }

    /// Gives back claimed rows that were certainly not handed to the producer.
    func release(_ ids: [Int64], token: UUID) async throws {
        guard !ids.isEmpty else { return }
        try await pool.execute("""
            UPDATE swap_outbox SET state = 'pending', claim_token = NULL, claimed_at = NULL, claim_offsets = NULL
            WHERE claim_token = \(token) AND state = 'publishing' AND id = ANY(\(Self.array(ids))::bigint[])
            """)
    }

    /// Seconds since the oldest row not yet sent was committed; 0 when every row is sent.
    func oldestUnsentAge() async throws -> Double {
        let rows = try await pool.query("""
            SELECT EXTRACT(EPOCH FROM now() - created_at)::float8 FROM swap_outbox
            WHERE state <> 'sent' AND (\(topicArray)::text[] IS NULL OR topic = ANY(\(topicArray)::text[]))
            ORDER BY id LIMIT 1
            """)
        return try rows.first.map { max(0, try $0.decode(Double.self, column: 0)) } ?? 0
    }

    /// Deletes up to `limit` rows sent longer than `retention` ago.
    func deleteSent(olderThan retention: Duration, limit: Int = 1000) async throws -> Int {
        let seconds = Double(retention.components.seconds)
        return try await pool.execute("""
            DELETE FROM swap_outbox WHERE id IN (
                SELECT id FROM swap_outbox
                WHERE state = 'sent' AND sent_at < now() - make_interval(secs => \(seconds))
                LIMIT \(limit))
            """)
    }

    private static func array(_ ids: [Int64]) -> String {
        "{" + ids.map(String.init).joined(separator: ",") + "}"
    }

    private static func events(_ rows: PostgresRows) throws -> [ClaimedEvent] {
        try rows.map { row in
            let offsetsText = try row.decode(String?.self, column: 6)
            var offsets: [Int: Int64]?
            if let offsetsText, let decoded = try? JSONDecoder().decode([String: Int64].self, from: Data(offsetsText.utf8)) {
                offsets = Dictionary(uniqueKeysWithValues: decoded.compactMap { key, value in Int(key).map { ($0, value) } })
            }
            return ClaimedEvent(
                id: try row.decode(Int64.self, column: 0),
                eventID: try row.decode(UUID.self, column: 1),
                topic: try row.decode(String.self, column: 2),
                key: try row.decode(String.self, column: 3),
                type: try row.decode(String.self, column: 4),
                payload: try row.decode(String.self, column: 5),
                claimOffsets: offsets
            )
        }.sorted { $0.id < $1.id }
    }
}
