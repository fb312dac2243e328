import Crypto
import Foundation
import Logging
import Metrics
import SwapRedis

/// The Redis cache of tiles and nearby results, invalidated by area.
///
/// ## Versioned keys
/// Each Web Mercator tile (z/x/y, every zoom 0...22) has a version key,
/// `map:tile-version:z/x/y`. A cached tile is stored under its tile *and*
/// the version read just before the database was queried:
/// `map:tile:z/x/y:<version>`. A nearby result is stored under a hash of its
/// query and the versions of the tiles covering its circle at one zoom
/// (``TileMath/tilesCovering(lat:lon:radius:maxZoom:maxTiles:)``).
///
/// Creating or deleting a listing, after its transaction committed, sets the
/// version of every tile at every zoom whose neighbourhood (the tile grown by
/// the MVT search margin) holds the point to a fresh value of the global
/// counter `map:version` (one Lua script: at most 92 keys). A request that
/// starts after that reads the new version, misses, and queries the
/// database, which has the change. A request that read the old version
/// before and stores its (possibly stale) result afterwards stores it under
/// the old version, which nobody reads any more. Versions come from one
/// counter that never goes back, so a version key that expired and was set
/// again can never reuse an old value; a missing version key reads as 0,
/// which only results stored while that key was missing use (version keys
/// live twice as long as entries).
///
/// Redis being down never fails a request: reads fall back to the database
/// (`X-Cache: BYPASS`) and a failed invalidation is retried, then logged
/// (entries then expire after the TTL at the latest).
struct MapCache: Sendable {
    let redis: RedisPool
    /// How long a tile or a nearby result is kept (TILE_CACHE_TTL).
    let ttl: Duration
    let service: String
    let logger: Logger

    enum Lookup: String, Sendable {
        case hit = "HIT"
        case miss = "MISS"
        case bypass = "BYPASS"
    }

    static let counterKey = "map:version"

    var versionTTL: Duration { ttl * 2 + .seconds(60) }

    static func versionKey(_ tile: TileID) -> String { "map:tile-version:\(tile)" }

    // MARK: - Tiles

    /// The tile's bytes from the cache, or from `load` (then stored).
    func tile(_ tile: TileID, load: () async throws -> [UInt8]) async throws -> (bytes: [UInt8], lookup: Lookup) {
        guard let version = await versions([tile])?.first else {
            return (try await load(), record(.bypass, cache: "tile"))
        }
        let key = "map:tile:\(tile):\(version)"
        do {
            if let bytes = try await redis.getBytes(key) {
                return (bytes, record(.hit, cache: "tile"))
            }
        } catch {
            logger.warning("tile cache read failed", metadata: ["error": "\(error)"])
            return (try await load(), record(.bypass, cache: "tile"))
        }
        let bytes = try await load()
        await store(key, bytes)
        return (bytes, record(.miss, cache: "tile"))
    }

    // MARK: - Nearby

    /// The encoded nearby result from the cache, or from `load` (then stored).
    func nearby(lat: Double, lon: Double, radius: Double, limit: Int, load: () async throws -> [UInt8]) async throws -> (bytes: [UInt8], lookup: Lookup) {
        let tiles = TileMath.tilesCovering(lat: lat, lon: lon, radius: radius)
        guard let versions = await versions(tiles) else {
            return (try await load(), record(.bypass, cache: "nearby"))
        }
        var description = "\(lat)|\(lon)|\(radius)|\(limit)"
        for (tile, version) in zip(tiles, versions) { description += "|\(tile)@\(version)" }
        let key = "map:nearby:" + SHA256.hash(data: Data(description.utf8)).map { String(format: "%02x", $0) }.joined()
        do {
            if let bytes = try await redis.getBytes(key) {
                return (bytes, record(.hit, cache: "nearby"))
            }
        } catch {
            logger.warning("nearby cache read failed", metadata: ["error": "\(error)"])
            return (try await load(), record(.bypass, cache: "nearby"))
        }
        let bytes = try await load()
        await store(key, bytes)
        return (bytes, record(.miss, cache: "nearby"))
    }

    // MARK: - Invalidation

    /// Gives every tile around the point (and so every nearby circle
    /// covering it) a new version. Call after the change committed.
    func invalidate(lat: Double, lon: Double) async {
        let tiles = TileMath.tilesTouching(lat: lat, lon: lon, margin: PostgresListingRepository.searchMargin)
        let keys = [Self.counterKey] + tiles.map(Self.versionKey)
        let script = """
            local version = redis.call('INCR', KEYS[1])
            for i = 2, #KEYS do redis.call('SET', KEYS[i], version, 'PX', ARGV[1]) end
            return version
            """
        let milliseconds = versionTTL.components.seconds * 1000 + versionTTL.components.attoseconds / 1_000_000_000_000_000
        for attempt in 1...3 {
            do {
                try await redis.eval(script, keys: keys, arguments: [String(milliseconds)])
                return
            } catch {
                logger.error("cache invalidation failed", metadata: [
                    "error": "\(error)", "attempt": "\(attempt)", "lat": "\(lat)", "lon": "\(lon)",
                ])
                Counter(label: "swap_map_cache_invalidation_failures_total", dimensions: [("service", service)]).increment()
                if attempt < 3 { try? await Task.sleep(for: .milliseconds(100 * attempt)) }
            }
        }
    }

    // MARK: - Helpers

    /// The tiles' current versions ("0" when unset), or nil when Redis fails.
    private func versions(_ tiles: [TileID]) async -> [String]? {
        do {
            let reply = try await redis.send(["MGET"] + tiles.map(Self.versionKey))
            guard let values = reply.array, values.count == tiles.count else { return nil }
            return values.map { $0.string ?? "0" }
        } catch {
            logger.warning("cache version read failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    private func store(_ key: String, _ bytes: [UInt8]) async {
        do {
            try await redis.set(key, bytes: bytes, expiration: ttl)
        } catch {
            logger.warning("cache write failed", metadata: ["error": "\(error)"])
        }
    }

    private func record(_ lookup: Lookup, cache: String) -> Lookup {
        Counter(label: "swap_map_cache_requests_total", dimensions: [
            ("service", service), ("cache", cache), ("result", lookup.rawValue.lowercased()),
        ]).increment()
        return lookup
    }
}
