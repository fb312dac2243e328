import Foundation
import ServiceKit
import SwapPostgres

/// Points accounts, their ledger and the rewards catalogue. Changes run on a
/// connection inside a transaction the caller opened (the processed-event
/// mark or the idempotency record shares it).
protocol PointsRepository: Sendable {
    /// Zeros for a user who has never earned anything.
    func balance(of user: UUID) async throws -> PointsBalance
    /// The user's ledger, newest first, after `cursor`.
    func history(of user: UUID, after cursor: HistoryCursor?, limit: Int) async throws -> [HistoryEntry]
    func rewards() async throws -> [Reward]
    /// Adds `delta` points for the event and enqueues `points.awarded`; returns the new balance.
    func award(_ delta: Int64, to user: UUID, sourceEvent: UUID, on connection: PostgresConnection) async throws -> Int64
    func redeem(_ reward: UUID, by user: UUID, on connection: PostgresConnection) async throws -> Redemption
}

struct PostgresPointsRepository: PointsRepository {
    static let topic = "points.awarded"
    static let eventType = "points.awarded"

    let pool: PostgresPool

    func balance(of user: UUID) async throws -> PointsBalance {
        let rows = try await pool.query("SELECT balance, lifetime FROM points_accounts WHERE user_id = \(user)")
        guard let row = rows.first else { return PointsBalance(userId: user, balance: 0, lifetime: 0) }
        let (balance, lifetime) = try row.decode((Int64, Int64).self)
        return PointsBalance(userId: user, balance: balance, lifetime: lifetime)
    }

    func history(of user: UUID, after cursor: HistoryCursor?, limit: Int) async throws -> [HistoryEntry] {
        let rows = try await pool.query("""
            SELECT seq, id, delta, reason, source_event_id, created_at FROM points_ledger
            WHERE user_id = \(user) AND seq < \(cursor?.seq ?? Int64.max)
            ORDER BY seq DESC
            LIMIT \(limit)
            """)
        return try rows.map { row in
            let (seq, id, delta, reason, source, createdAt) = try row.decode((Int64, UUID, Int64, String, UUID?, Date).self)
            return HistoryEntry(seq: seq, item: HistoryItem(id: id, delta: delta, reason: reason, sourceEventId: source, createdAt: createdAt))
        }
    }

    func rewards() async throws -> [Reward] {
        try await pool.query("SELECT id, name, cost FROM rewards WHERE active ORDER BY cost, name").map { row in
            let (id, name, cost) = try row.decode((UUID, String, Int64).self)
            return Reward(id: id, name: name, cost: cost)
        }
    }

    func award(_ delta: Int64, to user: UUID, sourceEvent: UUID, on connection: PostgresConnection) async throws -> Int64 {
        let rows = try await connection.query("""
            INSERT INTO points_accounts AS account (user_id, balance, lifetime) VALUES (\(user), \(delta), \(delta))
            ON CONFLICT (user_id) DO UPDATE
            SET balance = account.balance + EXCLUDED.balance, lifetime = account.lifetime + EXCLUDED.lifetime, updated_at = now()
            RETURNING balance
            """)
        let balance = try rows[0].decode(Int64.self, column: 0)
        try await connection.execute("""
            INSERT INTO points_ledger (id, user_id, delta, reason, source_event_id)
            VALUES (\(UUID()), \(user), \(delta), 'transfer', \(sourceEvent))
            """)
        let awarded = PointsAwarded(userId: user, delta: delta, balance: balance, sourceEventId: sourceEvent)
        let event = try EventEnvelope(topic: Self.topic, key: user.lowercaseString, type: Self.eventType, data: awarded)
        try await Outbox.enqueue(event, on: connection)
        return balance
    }

    func redeem(_ reward: UUID, by user: UUID, on connection: PostgresConnection) async throws -> Redemption {
        let found = try await connection.query("SELECT cost FROM rewards WHERE id = \(reward) AND active")
        guard let row = found.first else { throw APIError.notFound("no such reward") }
        let cost = try row.decode(Int64.self, column: 0)
        // The account row is locked so that concurrent redemptions (and awards) queue behind this one.
        let account = try await connection.query("SELECT balance FROM points_accounts WHERE user_id = \(user) FOR UPDATE")
        let balance = try account.first?.decode(Int64.self, column: 0) ?? 0
        guard balance >= cost else {
            throw APIError.unprocessable("insufficient_points", "this reward costs \(cost) points; the balance is \(balance)")
        }
        try await connection.execute("""
            UPDATE points_accounts SET balance = balance - \(cost), updated_at = now() WHERE user_id = \(user)
            """)
        let id = UUID()
        let inserted = try await connection.query("""
            INSERT INTO redemptions (id, user_id, reward_id, cost) VALUES (\(id), \(user), \(reward), \(cost))
            RETURNING created_at
            """)
        let createdAt = try inserted[0].decode(Date.self, column: 0)
        try await connection.execute("""
            INSERT INTO points_ledger (id, user_id, delta, reason, redemption_id)
            VALUES (\(UUID()), \(user), \(-cost), 'redemption', \(id))
            """)
        return Redemption(id: id, rewardId: reward, cost: cost, createdAt: createdAt)
    }
}
