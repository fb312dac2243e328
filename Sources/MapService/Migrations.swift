import ServiceKit

/// The map service's schema, after Supabase's `auth` schema (owners reference `auth.users`).
///
/// `location` is a `geography(Point, 4326)` with a GiST index: nearby search
/// (`ST_DWithin` on geography) uses it. Tiles select by a bounding box in
/// degrees, which the second GiST index on `location::geometry` serves.
enum MapMigrations {
    static let owner = "map"

    static let sets: [MigrationSet] = [
        AuthSchema.migrations,
        MigrationSet(owner: owner, migrations: [
            Migration(version: 1, name: "create listings", sql: """
                CREATE EXTENSION IF NOT EXISTS postgis;

                CREATE TABLE listings (
                    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    owner_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
                    title text NOT NULL CONSTRAINT listings_title_length CHECK (char_length(title) BETWEEN 1 AND 200),
                    category text,
                    location geography(Point, 4326) NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE INDEX listings_location_idx ON listings USING gist (location);
                CREATE INDEX listings_location_geometry_idx ON listings USING gist ((location::geometry));
                CREATE INDEX listings_owner_idx ON listings (owner_id);
                """),
        ]),
    ]
}
