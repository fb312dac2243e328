import Foundation
import LocalServers

/// A database shaped like a Supabase project's, small enough to read.
enum SupabaseFixture {
    static let anaHash = "$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z9ZzEJGsX6dJ6a1WUBFmGx6."

    static let tables = ["app.listings", "app.profiles", "app.events", "auth.users", "auth.refresh_tokens", "storage.objects"]

    /// md5 of each table's rows in a fixed order, straight from psql.
    static func checksums(_ server: PostgresServer, database: String) async throws -> [String: String] {
        var sums: [String: String] = [:]
        for table in tables {
            sums[table] = try await server.value("SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \(table) t", database: database)
        }
        return sums
    }

    static let sql = #"""
    DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN; END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated NOLOGIN; END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'supabase_auth_admin') THEN CREATE ROLE supabase_auth_admin NOLOGIN; END IF;
    END $$;
    CREATE SCHEMA extensions;
    CREATE EXTENSION postgis WITH SCHEMA extensions;
    CREATE EXTENSION pgcrypto WITH SCHEMA extensions;

    CREATE SCHEMA auth;
    CREATE TABLE auth.users (
        instance_id uuid, id uuid PRIMARY KEY, aud varchar(255), role varchar(255), email varchar(255),
        encrypted_password varchar(255), email_confirmed_at timestamptz, raw_app_meta_data jsonb, raw_user_meta_data jsonb,
        created_at timestamptz, updated_at timestamptz, phone text UNIQUE DEFAULT NULL, is_anonymous boolean NOT NULL DEFAULT false
    );
    CREATE TABLE auth.sessions (id uuid PRIMARY KEY, user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE, created_at timestamptz);
    CREATE TABLE auth.refresh_tokens (
        id bigserial PRIMARY KEY, token varchar(255) UNIQUE, user_id varchar(255), revoked boolean, created_at timestamptz,
        updated_at timestamptz, parent varchar(255), session_id uuid REFERENCES auth.sessions (id) ON DELETE CASCADE
    );
    CREATE TABLE auth.identities (id text PRIMARY KEY, user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE, provider text);
    CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
        SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid
    $$;

    CREATE SCHEMA storage;
    CREATE TABLE storage.buckets (id text PRIMARY KEY, name text NOT NULL);
    CREATE TABLE storage.objects (id uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(), bucket_id text REFERENCES storage.buckets (id), name text);
    INSERT INTO storage.buckets VALUES ('avatars', 'avatars');
    INSERT INTO storage.objects (id, bucket_id, name) VALUES ('66666666-6666-6666-6666-666666666666', 'avatars', 'ana.png');

    CREATE SCHEMA app;
    CREATE TABLE app.profiles (
        id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE, display_name text NOT NULL,
        avatar_id uuid REFERENCES storage.objects (id)
    );
    CREATE TABLE app.listings (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, owner uuid NOT NULL REFERENCES auth.users (id), title text NOT NULL,
        price numeric(12, 2) NOT NULL, location extensions.geography(Point, 4326), tags text[], created_at timestamptz NOT NULL DEFAULT now()
    );
    -- No primary key, floats, JSON and a duplicate row: the checksum must still hold.
    CREATE TABLE app.events (kind text, payload jsonb, ratio double precision);
    ALTER TABLE app.listings ENABLE ROW LEVEL SECURITY;
    CREATE POLICY listings_owner ON app.listings FOR ALL TO authenticated USING (owner = auth.uid());
    CREATE POLICY listings_read ON app.listings FOR SELECT TO anon USING (true);
    CREATE FUNCTION app.handle_new_user() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO app.profiles (id, display_name) VALUES (NEW.id, coalesce(NEW.email, 'user'));
        RETURN NEW;
    END $$;
    CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users FOR EACH ROW EXECUTE FUNCTION app.handle_new_user();

    INSERT INTO auth.users (id, aud, role, email, encrypted_password, created_at, updated_at, raw_user_meta_data) VALUES
        ('11111111-1111-1111-1111-111111111111', 'authenticated', 'authenticated', 'ana@example.com',
         '$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z9ZzEJGsX6dJ6a1WUBFmGx6.', '2024-05-01 10:00:00+00', now(), '{"name": "Ana"}'),
        ('22222222-2222-2222-2222-222222222222', 'authenticated', 'authenticated', 'bo@example.com',
         '$2b$12$abcdefghijklmnopqrstuuQ0f5jO4vGxN2cG2zJqk3u8m5H6Q7uXK', '2024-05-02 11:30:00+02', now(), '{}'),
        ('33333333-3333-3333-3333-333333333333', 'authenticated', 'authenticated', 'oauth@example.com', NULL, now(), now(), '{}');
    UPDATE app.profiles SET avatar_id = '66666666-6666-6666-6666-666666666666' WHERE id = '11111111-1111-1111-1111-111111111111';
    INSERT INTO auth.sessions VALUES ('44444444-4444-4444-4444-444444444444', '11111111-1111-1111-1111-111111111111', now());
    INSERT INTO auth.refresh_tokens (token, user_id, revoked, created_at, session_id)
        VALUES ('v1-token', '11111111-1111-1111-1111-111111111111', false, now(), '44444444-4444-4444-4444-444444444444');
    INSERT INTO auth.identities VALUES ('ana', '11111111-1111-1111-1111-111111111111', 'email');
    INSERT INTO app.listings (owner, title, price, location, tags) VALUES
        ('11111111-1111-1111-1111-111111111111', 'Bike', 120.50, 'SRID=4326;POINT(13.4 52.5)', '{sport,used}'),
        ('22222222-2222-2222-2222-222222222222', 'Desk "oak"', 80, NULL, '{}'),
        ('11111111-1111-1111-1111-111111111111', E'Lamp\twith tab', 15.25, 'SRID=4326;POINT(2.35 48.85)', NULL);
    INSERT INTO app.events SELECT 'view', jsonb_build_object('n', g), g / 3.0 FROM generate_series(1, 200) AS g;
    INSERT INTO app.events VALUES ('view', '{"n": 1}', 1 / 3.0);
    ANALYZE;
    """#
}

extension PostgresServer {
    /// One value from psql, without the trailing newline.
    func value(_ sql: String, database: String) async throws -> String {
        try await psql(sql, database: database).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
