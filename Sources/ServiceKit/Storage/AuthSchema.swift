/// The `auth` schema, shaped like Supabase Auth's, shared by the gateway
/// (which owns sign-up and tokens) and every service whose tables reference
/// users: each runs ``migrations`` first (owner `auth`; applied once whoever
/// runs it first), then its own, which may say `REFERENCES auth.users (id)`
/// exactly as a Supabase app does, or add triggers on `auth.users`.
///
/// - `auth.users`: `id` (uuid, generated), `email` (unique, stored
///   lower-cased; a check constraint refuses anything else),
///   `encrypted_password` (a bcrypt hash), `created_at`, `updated_at`.
/// - `auth.refresh_tokens`: a hash of each refresh token (never the token),
///   its user (deleted with the user), whether it is revoked, the hash of the
///   token it was rotated from, and when it expires.
///
/// `IF NOT EXISTS` everywhere: on a database that already has Supabase's
/// `auth` schema these statements leave it as it is.
public enum AuthSchema {
    public static let owner = "auth"

    public static let migrations = MigrationSet(owner: owner, migrations: [
        Migration(version: 1, name: "create auth.users and auth.refresh_tokens", sql: """
            CREATE SCHEMA IF NOT EXISTS auth;

            CREATE TABLE IF NOT EXISTS auth.users (
                id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                email text NOT NULL UNIQUE CONSTRAINT users_email_lower_case CHECK (email = lower(email)),
                encrypted_password text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now()
            );

            CREATE TABLE IF NOT EXISTS auth.refresh_tokens (
                id bigserial PRIMARY KEY,
                token_hash text NOT NULL UNIQUE,
                user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
                revoked boolean NOT NULL DEFAULT false,
                parent_hash text,
                created_at timestamptz NOT NULL DEFAULT now(),
                expires_at timestamptz NOT NULL
            );

            CREATE INDEX IF NOT EXISTS refresh_tokens_user_id_idx ON auth.refresh_tokens (user_id);
            """),
    ])
}
