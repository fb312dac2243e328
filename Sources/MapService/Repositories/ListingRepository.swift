import Foundation
import SwapPostgres

/// A listing to create, already validated.
struct NewListing: Sendable, Equatable {
    var title: String
    var category: String?
    var lat: Double
    var lon: Double
}

enum CreateOutcome: Sendable, Equatable {
    case created(Listing)
    /// The owner has no `auth.users` row (an account deleted after its token was issued).
    case ownerNotFound
}

/// Storage of listings and the spatial queries on them.
protocol ListingRepository: Sendable {
    func create(_ listing: NewListing, owner: UUID) async throws -> CreateOutcome
    func listing(_ id: UUID) async throws -> Listing?
    /// Deletes the owner's listing and returns it; nil when it does not exist or is someone else's.
    func delete(_ id: UUID, owner: UUID) async throws -> Listing?
    /// Listings within `radius` metres (on the sphere), nearest first.
    func nearby(lat: Double, lon: Double, radius: Double, limit: Int) async throws -> [NearbyListing]
    /// The Mapbox Vector Tile of the listings in `tile` (layer `listings`).
    func tile(_ tile: TileID) async throws -> [UInt8]
}

/// ``ListingRepository`` on PostgreSQL/PostGIS.
struct PostgresListingRepository: ListingRepository {
    let pool: PostgresPool

    /// MVT geometry extent and buffer (in tile units), as ST_AsMVTGeom takes them.
    static let extent = 4096
    static let buffer = 64
    /// Rows are selected in the tile grown by twice the buffer (as a fraction
    /// of the tile); the cache invalidates the same neighbourhood.
    static let searchMargin = Double(2 * buffer) / Double(extent)

    static let columns = "id, owner_id, title, category, ST_Y(location::geometry), ST_X(location::geometry), created_at"

    func create(_ listing: NewListing, owner: UUID) async throws -> CreateOutcome {
        do {
            let rows = try await pool.query("""
                INSERT INTO listings (owner_id, title, category, location)
                VALUES (\(owner), \(listing.title), \(listing.category),
                        ST_SetSRID(ST_MakePoint(\(listing.lon), \(listing.lat)), 4326)::geography)
                RETURNING \(unsafeRaw: Self.columns)
                """)
            guard let row = rows.first else { throw MapInconsistency.missingRow("listing just inserted") }
            return .created(try Self.listing(from: row))
        } catch let error as PostgresError where error.kind == .foreignKeyViolation {
            return .ownerNotFound
        }
    }

    func listing(_ id: UUID) async throws -> Listing? {
        let rows = try await pool.query("SELECT \(unsafeRaw: Self.columns) FROM listings WHERE id = \(id)")
        return try rows.first.map(Self.listing(from:))
    }

    func delete(_ id: UUID, owner: UUID) async throws -> Listing? {
        let rows = try await pool.query("DELETE FROM listings WHERE id = \(id) AND owner_id = \(owner) RETURNING \(unsafeRaw: Self.columns)")
        return try rows.first.map(Self.listing(from:))
    }

    func nearby(lat: Double, lon: Double, radius: Double, limit: Int) async throws -> [NearbyListing] {
        // ST_DWithin on geography is answered from the GiST index; distances
        // on the sphere (use_spheroid false) for the filter and the order alike.
        let rows = try await pool.query("""
            SELECT \(unsafeRaw: Self.columns),
                   ST_Distance(location, ST_SetSRID(ST_MakePoint(\(lon), \(lat)), 4326)::geography, false) AS distance_m
            FROM listings
            WHERE ST_DWithin(location, ST_SetSRID(ST_MakePoint(\(lon), \(lat)), 4326)::geography, \(radius), false)
            ORDER BY distance_m, id
            LIMIT \(limit)
            """)
        return try rows.map { row in
            NearbyListing(listing: try Self.listing(from: row), distanceM: try row.decode(Double.self, column: 7))
        }
    }

    func tile(_ tile: TileID) async throws -> [UInt8] {
        // The search box is the tile grown by the margin (PostGIS clamps it to
        // the Mercator world), in degrees for the geometry index; ST_AsMVTGeom
        // then clips to the tile plus its buffer. Features in id order: the
        // same listings always give the same bytes, hence the same ETag.
        let rows = try await pool.query("""
            WITH bounds AS (
                SELECT ST_TileEnvelope(\(tile.z)::integer, \(tile.x)::integer, \(tile.y)::integer) AS tile,
                       ST_Transform(ST_TileEnvelope(\(tile.z)::integer, \(tile.x)::integer, \(tile.y)::integer,
                                                    margin => \(Self.searchMargin)), 4326) AS search
            ), features AS (
                SELECT ST_AsMVTGeom(ST_Transform(l.location::geometry, 3857), bounds.tile,
                                    \(Self.extent)::integer, \(Self.buffer)::integer, true) AS geom,
                       l.id::text AS id, l.owner_id::text AS owner_id, l.title, l.category
                FROM listings l, bounds
                WHERE l.location::geometry && bounds.search
            )
            SELECT ST_AsMVT(features.*, 'listings', \(Self.extent)::integer, 'geom' ORDER BY features.id)
            FROM features WHERE geom IS NOT NULL
            """)
        guard let row = rows.first, let bytes = try row.decode(Data?.self, column: 0) else { return [] }
        return Array(bytes)
    }

    static func listing(from row: PostgresRow) throws -> Listing {
        Listing(
            id: try row.decode(UUID.self, column: 0),
            ownerID: try row.decode(UUID.self, column: 1),
            title: try row.decode(String.self, column: 2),
            category: try row.decode(String?.self, column: 3),
            lat: try row.decode(Double.self, column: 4),
            lon: try row.decode(Double.self, column: 5),
            createdAt: try row.decode(Date.self, column: 6)
        )
    }
}

/// A row the same statement just wrote is gone: a bug, reported as a 500.
enum MapInconsistency: Error {
    case missingRow(String)
}
