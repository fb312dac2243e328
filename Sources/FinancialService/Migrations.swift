import ServiceKit
import SwapPostgres

/// The financial schema. Start-up applies, in order: ``AuthSchema`` (the
/// users wallets reference), the outbox and idempotency tables, ``settings``,
/// then records `CURRENCY` in `financial_settings`, then ``ledger`` (whose
/// backfill and sign-up trigger read the currency from there).
enum FinancialMigrations {
    static var before: [MigrationSet] {
        [AuthSchema.migrations, Outbox.migrations, IdempotencyStore.migrations, settings]
    }

    /// One row of service-wide settings the database itself needs (the
    /// sign-up trigger runs inside the gateway's transaction, not here).
    static let settings = MigrationSet(owner: "financial_settings", migrations: [
        Migration(version: 1, name: "create financial_settings", sql: """
            CREATE TABLE financial_settings (
                singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$')
            );
            INSERT INTO financial_settings (currency) VALUES ('USD');
            """),
    ])

    /// Wallets (one per user, created by a trigger on `auth.users` in the
    /// sign-up transaction, and backfilled for existing users) and the ledger.
    ///
    /// Ledger rows keep plain user ids (no foreign key): history outlives a
    /// deleted account. `seq` orders the ledger for cursor pagination;
    /// `idempotency_key` is the key the initiator sent, for audits.
    static let ledger = MigrationSet(owner: "financial", migrations: [
        Migration(version: 1, name: "create wallets, the sign-up trigger and transactions", sql: """
            CREATE TABLE wallets (
                user_id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
                balance bigint NOT NULL DEFAULT 0 CONSTRAINT wallets_balance_not_negative CHECK (balance >= 0),
                currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
                updated_at timestamptz NOT NULL DEFAULT now()
            );

            -- Runs in the transaction that inserts the user (the gateway's sign-up):
            -- the wallet exists exactly when the user does. SECURITY DEFINER with the
            -- search_path fixed at creation: the inserting session may have another
            -- role or path.
            CREATE FUNCTION financial_create_wallet() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
            BEGIN
                INSERT INTO wallets (user_id, currency)
                VALUES (NEW.id, (SELECT currency FROM financial_settings WHERE singleton))
                ON CONFLICT (user_id) DO NOTHING;
                RETURN NEW;
            END
            $$;

            CREATE TRIGGER financial_create_wallet AFTER INSERT ON auth.users
            FOR EACH ROW EXECUTE FUNCTION financial_create_wallet();

            INSERT INTO wallets (user_id, currency)
            SELECT u.id, s.currency FROM auth.users u CROSS JOIN financial_settings s WHERE s.singleton
            ON CONFLICT (user_id) DO NOTHING;

            CREATE TABLE transactions (
                id uuid PRIMARY KEY,
                seq bigserial NOT NULL UNIQUE,
                kind text NOT NULL CHECK (kind IN ('deposit', 'transfer')),
                from_user_id uuid,
                to_user_id uuid NOT NULL,
                amount bigint NOT NULL CHECK (amount > 0),
                status text NOT NULL CHECK (status IN ('completed', 'held')),
                note text,
                idempotency_key text,
                created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                CHECK ((kind = 'deposit') = (from_user_id IS NULL))
            );
            CREATE INDEX transactions_from_user_idx ON transactions (from_user_id, seq DESC);
            CREATE INDEX transactions_to_user_idx ON transactions (to_user_id, seq DESC);
            CREATE INDEX transactions_recent_transfers_idx ON transactions (from_user_id, created_at)
                WHERE kind = 'transfer';
            """),
    ])

    /// Records the configured currency for the trigger and the backfill.
    static func recordCurrency(_ currency: String, on pool: PostgresPool) async throws {
        try await pool.execute("UPDATE financial_settings SET currency = \(currency) WHERE singleton")
    }

    /// Applies everything in order (see the type's description).
    static func migrate(currency: String, pool: PostgresPool, migrator: Migrator) async throws {
        try await migrator.migrate(before)
        try await recordCurrency(currency, on: pool)
        try await migrator.migrate(ledger)
    }
}
