import ServiceKit

/// The points schema, applied after the outbox, processed-event and
/// idempotency tables.
///
/// User ids are plain uuids (no foreign key to `auth.users`): an award for
/// a transfer must not fail because its sender's account was deleted since.
enum PointsMigrations {
    static var sets: [MigrationSet] {
        [Outbox.migrations, ProcessedEvents.migrations, IdempotencyStore.migrations, points]
    }

    static let points = MigrationSet(owner: "points", migrations: [
        Migration(version: 1, name: "create points accounts, ledger, rewards and redemptions", sql: """
            CREATE TABLE points_accounts (
                user_id uuid PRIMARY KEY,
                balance bigint NOT NULL DEFAULT 0 CONSTRAINT points_balance_not_negative CHECK (balance >= 0),
                lifetime bigint NOT NULL DEFAULT 0 CHECK (lifetime >= 0),
                updated_at timestamptz NOT NULL DEFAULT now()
            );

            CREATE TABLE rewards (
                id uuid PRIMARY KEY,
                name text NOT NULL UNIQUE,
                cost bigint NOT NULL CHECK (cost > 0),
                active boolean NOT NULL DEFAULT true
            );

            CREATE TABLE redemptions (
                id uuid PRIMARY KEY,
                user_id uuid NOT NULL,
                reward_id uuid NOT NULL REFERENCES rewards (id),
                cost bigint NOT NULL CHECK (cost > 0),
                created_at timestamptz NOT NULL DEFAULT clock_timestamp()
            );
            CREATE INDEX redemptions_user_idx ON redemptions (user_id, created_at);

            -- Every change of a balance: awards (source_event_id set, at most one per
            -- event) and redemptions (redemption_id set). seq orders the history.
            CREATE TABLE points_ledger (
                id uuid PRIMARY KEY,
                seq bigserial NOT NULL UNIQUE,
                user_id uuid NOT NULL,
                delta bigint NOT NULL CHECK (delta <> 0),
                reason text NOT NULL CHECK (reason IN ('transfer', 'redemption')),
                source_event_id uuid UNIQUE,
                redemption_id uuid REFERENCES redemptions (id),
                created_at timestamptz NOT NULL DEFAULT clock_timestamp()
            );
            CREATE INDEX points_ledger_user_idx ON points_ledger (user_id, seq DESC);

            INSERT INTO rewards (id, name, cost) VALUES
                ('964d7db4-6e27-435c-a337-d615be6cc060', 'Coffee voucher', 500),
                ('2c850011-d813-46c9-8bba-42b23a172d53', 'Free delivery', 1000),
                ('76b53a62-9af4-48f3-8389-79cdd0408657', 'Cinema ticket', 2500),
                ('416a7de6-a5d4-44d4-b303-b80c6a1889ba', 'Gift card (10 USD)', 5000);
            """),
    ])
}
