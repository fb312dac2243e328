import Foundation
import ServiceKit
import SwapPostgres

/// Wallets and the ledger. The money-moving calls run on a connection inside
/// a transaction the caller opened (the idempotency record shares it) and
/// enqueue their events there too.
protocol LedgerRepository: Sendable {
    func wallet(of user: UUID) async throws -> Wallet?
    func deposit(to user: UUID, amount: Int64, idempotencyKey: String?, on connection: PostgresConnection) async throws -> LedgerTransaction
    func transfer(_ command: TransferCommand, idempotencyKey: String?, on connection: PostgresConnection) async throws -> LedgerTransaction
    /// The user's transactions (sent or received), newest first, after `cursor`.
    func transactions(of user: UUID, after cursor: TransactionCursor?, limit: Int) async throws -> [LedgerEntry]
}

struct PostgresLedgerRepository: LedgerRepository {
    static let topic = "financial.transactions"
    static let eventType = "transaction.completed"

    let pool: PostgresPool
    let rules: FraudRules

    func wallet(of user: UUID) async throws -> Wallet? {
        let rows = try await pool.query("SELECT balance, currency, updated_at FROM wallets WHERE user_id = \(user)")
        guard let row = rows.first else { return nil }
        let (balance, currency, updatedAt) = try row.decode((Int64, String, Date).self)
        return Wallet(userId: user, balance: balance, currency: currency, updatedAt: updatedAt)
    }

    func deposit(to user: UUID, amount: Int64, idempotencyKey: String?, on connection: PostgresConnection) async throws -> LedgerTransaction {
        let locked = try await connection.query("SELECT balance FROM wallets WHERE user_id = \(user) FOR UPDATE")
        guard !locked.isEmpty else { throw APIError.notFound("wallet not found") }
        let transaction = try await insert(
            kind: .deposit, from: nil, to: user, amount: amount, status: .completed, note: nil,
            idempotencyKey: idempotencyKey, on: connection
        )
        try await connection.execute("""
            UPDATE wallets SET balance = balance + \(amount), updated_at = now() WHERE user_id = \(user)
            """)
        try await publish(transaction, key: user, on: connection)
        return transaction
    }

    func transfer(_ command: TransferCommand, idempotencyKey: String?, on connection: PostgresConnection) async throws -> LedgerTransaction {
        // Both wallets, locked in one fixed order: opposite transfers cannot deadlock.
        let rows = try await connection.query("""
            SELECT user_id, balance, currency FROM wallets
            WHERE user_id IN (\(command.from), \(command.to))
            ORDER BY user_id
            FOR UPDATE
            """)
        var wallets: [UUID: (balance: Int64, currency: String)] = [:]
        for row in rows {
            let (id, balance, currency) = try row.decode((UUID, Int64, String).self)
            wallets[id] = (balance, currency)
        }
        guard let sender = wallets[command.from] else { throw APIError.notFound("wallet not found") }
        guard let recipient = wallets[command.to] else { throw APIError.notFound("no such user") }

        // Counted under the sender's lock: concurrent transfers of one sender, on any replica, queue here.
        try await checkRate(of: command.from, on: connection)

        guard sender.currency == recipient.currency else {
            throw APIError.unprocessable("currency_mismatch", "the recipient's wallet holds another currency")
        }
        guard sender.balance >= command.amount else {
            throw APIError.unprocessable("insufficient_funds", "the balance is lower than the amount")
        }
        let status: LedgerTransaction.Status = command.amount > rules.holdAbove ? .held : .completed
        let transaction = try await insert(
            kind: .transfer, from: command.from, to: command.to, amount: command.amount, status: status,
            note: command.note, idempotencyKey: idempotencyKey, on: connection
        )
        guard status == .completed else { return transaction }
        try await connection.execute("""
            UPDATE wallets SET balance = balance - \(command.amount), updated_at = now() WHERE user_id = \(command.from)
            """)
        try await connection.execute("""
            UPDATE wallets SET balance = balance + \(command.amount), updated_at = now() WHERE user_id = \(command.to)
            """)
        try await publish(transaction, key: command.from, on: connection)
        return transaction
    }

    func transactions(of user: UUID, after cursor: TransactionCursor?, limit: Int) async throws -> [LedgerEntry] {
        // Two index range scans (sent, received), each stopping after `limit` rows.
        let before = cursor?.seq ?? Int64.max
        let columns = "seq, id, kind, from_user_id, to_user_id, amount, status, note, created_at"
        let rows = try await pool.query("""
            SELECT * FROM (
                (SELECT \(unsafeRaw: columns) FROM transactions
                 WHERE from_user_id = \(user) AND seq < \(before) ORDER BY seq DESC LIMIT \(limit))
                UNION ALL
                (SELECT \(unsafeRaw: columns) FROM transactions
                 WHERE to_user_id = \(user) AND seq < \(before) ORDER BY seq DESC LIMIT \(limit))
            ) mine
            ORDER BY seq DESC
            LIMIT \(limit)
            """)
        return try rows.map { row in
            let (seq, id, kind, from, to, amount, status, note, createdAt) = try row.decode(
                (Int64, UUID, String, UUID?, UUID, Int64, String, String?, Date).self
            )
            guard let kind = LedgerTransaction.Kind(rawValue: kind), let status = LedgerTransaction.Status(rawValue: status) else {
                throw UnexpectedRow()
            }
            return LedgerEntry(seq: seq, transaction: LedgerTransaction(
                id: id, kind: kind, fromUserId: from, toUserId: to, amount: amount, status: status, note: note, createdAt: createdAt
            ))
        }
    }

    /// More than the allowed transfers in the last minute is 429, with
    /// Retry-After until the oldest of them leaves the window.
    private func checkRate(of sender: UUID, on connection: PostgresConnection) async throws {
        let rows = try await connection.query("""
            SELECT count(*)::bigint,
                   coalesce(ceil(extract(epoch FROM min(created_at) + interval '1 minute' - clock_timestamp())), 1)::bigint
            FROM transactions
            WHERE kind = 'transfer' AND from_user_id = \(sender) AND created_at > clock_timestamp() - interval '1 minute'
            """)
        guard let row = rows.first else { return }
        let (count, retryAfter) = try row.decode((Int64, Int64).self)
        if count >= Int64(rules.maxTransfersPerMinute) {
            throw APIError.tooManyRequests(
                retryAfterSeconds: Int(max(1, retryAfter)),
                message: "at most \(rules.maxTransfersPerMinute) transfers per minute"
            )
        }
    }

    private func insert(
        kind: LedgerTransaction.Kind, from: UUID?, to: UUID, amount: Int64, status: LedgerTransaction.Status,
        note: String?, idempotencyKey: String?, on connection: PostgresConnection
    ) async throws -> LedgerTransaction {
        let id = UUID()
        let rows = try await connection.query("""
            INSERT INTO transactions (id, kind, from_user_id, to_user_id, amount, status, note, idempotency_key)
            VALUES (\(id), \(kind.rawValue), \(from), \(to), \(amount), \(status.rawValue), \(note), \(idempotencyKey))
            RETURNING created_at
            """)
        let createdAt = try rows[0].decode(Date.self, column: 0)
        return LedgerTransaction(
            id: id, kind: kind, fromUserId: from, toUserId: to, amount: amount, status: status, note: note, createdAt: createdAt
        )
    }

    /// `transaction.completed` on `financial.transactions`, keyed by the
    /// user who initiated it (the sender, or the depositor).
    private func publish(_ transaction: LedgerTransaction, key: UUID, on connection: PostgresConnection) async throws {
        let event = try EventEnvelope(
            topic: Self.topic, key: key.lowercaseString, type: Self.eventType, data: transaction,
            occurredAt: transaction.createdAt
        )
        try await Outbox.enqueue(event, on: connection)
    }
}

/// A value the schema's CHECK constraints rule out.
struct UnexpectedRow: Error {}
