import Logging

/// The isolation level a transaction starts with.
public enum PostgresIsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

/// How often, and how patiently, a transaction is retried after a
/// serialization failure (40001) or deadlock (40P01).
public struct PostgresRetryPolicy: Sendable {
    /// Total attempts, the first included; 1 disables retrying.
    public var maxAttempts: Int
    /// The delay before the first retry; it doubles on each later one.
    public var baseDelay: Duration
    /// The cap on any single delay.
    public var maxDelay: Duration

    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(10), maxDelay: Duration = .milliseconds(500)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public static let `default` = PostgresRetryPolicy()
    public static let never = PostgresRetryPolicy(maxAttempts: 1)

    /// Full jitter in the upper half: concurrent losers of the same conflict
    /// should not retry in lockstep.
    func delay(beforeRetry retry: Int) -> Duration {
        let exponential = self.baseDelay * (1 << min(retry - 1, 16))
        let capped = min(exponential, self.maxDelay)
        return capped * Double.random(in: 0.5...1.0)
    }
}

extension PostgresConnection {
    /// Runs `body` in a transaction on this session: `COMMIT` when it
    /// returns, `ROLLBACK` when it throws. The whole closure runs again
    /// (after a jittered backoff) when the transaction fails with a
    /// serialization failure or deadlock, up to `retry.maxAttempts` times,
    /// so `body` must have no effects outside the database.
    ///
    /// - Throws: the error `body` threw, the last retryable ``PostgresError``
    ///   once attempts run out, or a `transactionAborted` error when `body`
    ///   swallowed a statement error (PostgreSQL then turns `COMMIT` into `ROLLBACK`).
    public func withTransaction<Value>(
        isolation: isolated (any Actor)? = #isolation,
        isolationLevel: PostgresIsolationLevel = .readCommitted,
        retry: PostgresRetryPolicy = .default,
        _ body: (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        var attempt = 1
        while true {
            do {
                return try await self.transactionAttempt(isolationLevel: isolationLevel, body)
            } catch let error as PostgresError where error.isRetryableTransactionFailure && attempt < retry.maxAttempts {
                self.logger.debug(
                    "retrying transaction",
                    metadata: ["attempt": "\(attempt)", "sqlstate": "\(error.sqlState ?? "-")"]
                )
                try await Task.sleep(for: retry.delay(beforeRetry: attempt))
                attempt += 1
            }
        }
    }

    private func transactionAttempt<Value>(
        isolation: isolated (any Actor)? = #isolation,
        isolationLevel: PostgresIsolationLevel,
        _ body: (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        try await self.execute("BEGIN ISOLATION LEVEL \(unsafeRaw: isolationLevel.rawValue)")
        let value: Value
        do {
            value = try await body(self)
            let commit = try await self.query("COMMIT")
            if commit.commandTag == "ROLLBACK" {
                throw PostgresError(kind: .transactionAborted, details: "COMMIT rolled back an aborted transaction")
            }
        } catch {
            await self.rollbackAfterFailure()
            throw error
        }
        return value
    }

    private func rollbackAfterFailure() async {
        guard !self.isBroken, await self.isInTransaction() else { return }
        do {
            // Also when the task is cancelled: the session must leave the transaction.
            _ = try await self.run("ROLLBACK")
        } catch {
            // A session stuck in a transaction must not go back to the pool.
            self.markBroken()
        }
    }

    /// Takes `pg_advisory_xact_lock(key)`, waiting until it is granted. The
    /// lock is released when the current transaction ends, so call this
    /// inside ``withTransaction(isolation:isolationLevel:retry:_:)`` (outside
    /// a transaction it would be released at once).
    public func advisoryTransactionLock(_ key: Int64) async throws {
        try await self.query("SELECT pg_advisory_xact_lock(\(key))")
    }

    /// Takes the transaction-scoped advisory lock for a name (hashed by the
    /// server with `hashtextextended`), e.g. `"swap.migrations"`.
    public func advisoryTransactionLock(named name: String) async throws {
        try await self.query("SELECT pg_advisory_xact_lock(hashtextextended(\(name), 0))")
    }

    /// Tries to take the transaction-scoped advisory lock without waiting.
    public func tryAdvisoryTransactionLock(_ key: Int64) async throws -> Bool {
        let rows = try await self.query("SELECT pg_try_advisory_xact_lock(\(key))")
        guard let row = rows.first else { return false }
        return try row.decode(Bool.self, column: 0)
    }
}

extension PostgresPool {
    /// Runs `body` in a transaction on one pooled session, retrying the whole
    /// closure on serialization failures and deadlocks; see
    /// ``PostgresConnection/withTransaction(isolation:isolationLevel:retry:_:)``.
    public func withTransaction<Value>(
        isolation: isolated (any Actor)? = #isolation,
        isolationLevel: PostgresIsolationLevel = .readCommitted,
        retry: PostgresRetryPolicy = .default,
        _ body: (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        try await self.withConnection { connection in
            try await connection.withTransaction(isolationLevel: isolationLevel, retry: retry, body)
        }
    }
}
