import Foundation
import Hummingbird
import Logging
import ServiceKit
import SwapKafka
import SwapPostgres

/// The financial service: wallets, deposits, transfers and the ledger
/// (API.md "Financial"), in PostgreSQL.
///
/// ## A wallet for every user, from sign-up on
/// The gateway owns sign-up and inserts into `auth.users` (``AuthSchema``).
/// The financial migrations add an `AFTER INSERT` trigger on `auth.users`
/// that creates the user's wallet (balance 0, the configured currency) in
/// the same transaction as the sign-up, and backfill a wallet for every user
/// that existed before. So a wallet exists exactly when its user does (the
/// wallet row also references `auth.users` and is deleted with it), without
/// the gateway knowing about wallets and without the financial service
/// consuming a sign-up event that could arrive late or not at all. The
/// currency comes from `CURRENCY`, recorded in `financial_settings` before
/// the wallet migrations run, so the trigger and the backfill both use it.
///
/// ## Money moves once
/// A deposit or transfer is one READ COMMITTED transaction that locks the
/// wallets involved with `SELECT ... FOR UPDATE` in `user_id` order (two
/// transfers between the same users in opposite directions cannot
/// deadlock), checks the balance under that lock, updates the balances,
/// inserts the ledger row and enqueues `transaction.completed` in the
/// transactional outbox (``Outbox``); the `Idempotency-Key` record
/// (``IdempotencyStore``) is written in the same transaction, so a key moves
/// money at most once even under concurrent retries. `wallets.balance` also
/// has `CHECK (balance >= 0)`.
///
/// ## Fraud rules
/// A transfer above `FRAUD_HOLD_ABOVE` is recorded as `held` and moves no
/// money (nor is it published: it did not complete). More than
/// `FRAUD_MAX_PER_MINUTE` transfers by one sender within a minute is 429: the
/// sender's recent transfers are counted in the ledger while the sender's
/// wallet is locked, so the limit holds across replicas.
public enum FinancialApp {
    /// The `financial-service` process: see ``ServiceMain``.
    public static func run() async throws {
        try await ServiceMain.run(
            configuration: { try FinancialConfiguration() },
            startupDetails: { ServiceMain.kafkaDetails.merging(["currency": "\($0.currency)"]) { $1 } },
            build: buildApplication
        )
    }
}

/// Everything the financial service reads at start-up, named as `swapctl`
/// generates it (SwapGenerators' ServiceEnvironment).
public struct FinancialConfiguration: ServiceConfiguration {
    public var common: CommonConfiguration
    public var database: PostgresConfiguration
    public var kafkaBrokers: [String]
    /// ISO 4217 code of new wallets (CURRENCY, default USD).
    public var currency: String
    /// Transfers above this amount are held (FRAUD_HOLD_ABOVE, default 1000000).
    public var holdAbove: Int
    /// Transfers allowed per sender per minute (FRAUD_MAX_PER_MINUTE, default 60).
    public var maxTransfersPerMinute: Int
    /// Database sessions of this process (DATABASE_POOL_SIZE, default 10).
    public var databasePoolSize: Int

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let reader = EnvironmentReader(environment)
        common = CommonConfiguration(reader: reader, defaultName: "financial")
        database = reader.postgres()
        kafkaBrokers = reader.kafkaBrokers()
        currency = reader.string("CURRENCY", default: "USD")
        if !(currency.count == 3 && currency.allSatisfy { $0.isASCII && $0.isUppercase }) {
            reader.problem("CURRENCY must be a three-letter ISO 4217 code such as USD, found '\(currency)'")
        }
        holdAbove = reader.int("FRAUD_HOLD_ABOVE", default: 1_000_000, in: 1...Int(Int64.max))
        maxTransfersPerMinute = reader.int("FRAUD_MAX_PER_MINUTE", default: 60, in: 1...1_000_000_000)
        databasePoolSize = reader.databasePoolSize()
        try reader.finish(service: common.serviceName)
    }
}
