import Foundation
import HTTPTypes
import LocalServers
import ServiceTesting
import SwapRedis
import Testing

@Suite("Map tiles and caching", .serialized, .timeLimit(.minutes(10)))
struct TilesTests {
    static let berlin = (lat: 52.52, lon: 13.405)

    @Test("a tile is a valid Mapbox Vector Tile holding the listings inside it")
    func tileIsValidVectorTile() async throws {
        try await MapHarness.run { map in
            let alice = try await map.user("alice")
            let places = [(52.52, 13.405, "bikes"), (52.523, 13.41, "books"), (52.518, 13.39, "tools"), (-33.87, 151.21, "far")]
            var listings: [String: (lat: Double, lon: Double)] = [:]
            for (lat, lon, category) in places {
                let listing = try await map.createListing(as: alice, title: "in \(category)", lat: lat, lon: lon, category: category)
                listings[try #require(listing["id"] as? String)] = (lat, lon)
            }
            let tile = tileOf(lat: Self.berlin.lat, lon: Self.berlin.lon, zoom: 12)
            let reply = try await map.send(.get, "/api/v1/tiles/\(tile.z)/\(tile.x)/\(tile.y).mvt", as: alice)
            #expect(reply.status == 200)
            #expect(reply.header("Content-Type") == "application/vnd.mapbox-vector-tile")
            let etag = try #require(reply.header("ETag"))
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && etag.count > 10)
            #expect(reply.header("Cache-Control") != nil)

            let decoded = try VectorTile(reply.body)
            #expect(decoded.layers.count == 1)
            let layer = try #require(decoded.layers.first)
            #expect(layer.name == "listings")
            #expect(layer.version == 2)
            #expect(layer.extent == 4096)
            var found: [String: (x: Int64, y: Int64)] = [:]
            for feature in layer.features {
                let properties = try decoded.properties(of: feature, in: layer)
                guard case .string(let id) = properties["id"] else { Issue.record("a feature without an id"); continue }
                #expect(properties["owner_id"] == .string(alice.idString))
                #expect(properties["title"].map { if case .string(let title) = $0 { title.hasPrefix("in ") } else { false } } == true)
                let points = try VectorTile.points(of: feature)
                #expect(points.count == 1)
                found[id] = points.first
            }
            let inside = listings.filter { tileOf(lat: $0.value.lat, lon: $0.value.lon, zoom: 12) == tile }
            #expect(inside.count == 3)
            #expect(Set(found.keys) == Set(inside.keys), "the tile's features are exactly the listings inside it")
            for (id, point) in inside {
                let expected = tilePixel(lat: point.lat, lon: point.lon, tile: tile)
                let actual = try #require(found[id])
                #expect(abs(actual.x - expected.x) <= 1 && abs(actual.y - expected.y) <= 1, "\(id): \(actual) vs \(expected)")
            }

            // The whole world at zoom 0 has all four.
            let world = try VectorTile(try await map.send(.get, "/api/v1/tiles/0/0/0.mvt", as: alice).body)
            #expect(world.layers.first?.features.count == 4)

            // An empty area: an empty tile, still 200 and valid.
            let ocean = tileOf(lat: -40, lon: -30, zoom: 10)
            let empty = try await map.send(.get, "/api/v1/tiles/\(ocean.z)/\(ocean.x)/\(ocean.y).mvt", as: alice)
            #expect(empty.status == 200)
            #expect(try VectorTile(empty.body).layers.allSatisfy { $0.features.isEmpty })

            for path in ["23/0/0", "1/2/0", "1/0/2", "-1/0/0", "a/0/0", "3/1/x", "22/4194304/0", "0/0/-0x1", "99999999999999999999/0/0"] {
                let bad = try await map.send(.get, "/api/v1/tiles/\(path).mvt", as: alice)
                #expect(bad.status == 400, "\(path) -> \(bad.status)")
                #expect(bad.errorCode == "invalid_tile")
            }
            #expect(try await map.send(.get, "/api/v1/tiles/22/4194303/4194303.mvt", as: alice).status == 200)
            #expect(try await map.send(.get, "/api/v1/tiles/0/0/0.png", as: alice).status == 404)
        }
    }

    @Test("tiles are served from Redis, carry an ETag, answer 304, and change when a listing in their area does")
    func tileCacheAndInvalidation() async throws {
        try await MapHarness.run { map in
            let alice = try await map.user("alice")
            let first = try await map.createListing(as: alice, lat: Self.berlin.lat, lon: Self.berlin.lon)
            let tile = tileOf(lat: Self.berlin.lat, lon: Self.berlin.lon, zoom: 12)
            let path = "/api/v1/tiles/\(tile.z)/\(tile.x)/\(tile.y).mvt"

            let miss = try await map.send(.get, path, as: alice)
            #expect(miss.header("X-Cache") == "MISS")
            let hit = try await map.send(.get, path, as: alice)
            #expect(hit.status == 200)
            #expect(hit.header("X-Cache") == "HIT")
            #expect(hit.body == miss.body)
            let etag = try #require(hit.header("ETag"))
            #expect(miss.header("ETag") == etag)
            #expect(try await map.redisKeys("map:tile:\(tile.z)/\(tile.x)/\(tile.y):*").count == 1)
            // Rendered again from the database (entry evicted), the same listings give the same ETag.
            try await map.redis.send("FLUSHALL")
            let rerendered = try await map.send(.get, path, as: alice)
            #expect(rerendered.header("X-Cache") == "MISS")
            #expect(rerendered.header("ETag") == etag)
            let metrics = try await map.send(.get, "/metrics", as: nil).text
            #expect((metricValue(metrics, "swap_map_cache_requests_total", ["cache": "tile", "result": "hit"]) ?? 0) >= 1)

            for condition in [etag, "W/\(etag)", "\"other\", \(etag)", "*"] {
                let notModified = try await map.send(.get, path, as: alice, headers: ["If-None-Match": condition])
                #expect(notModified.status == 304, "If-None-Match: \(condition)")
                #expect(notModified.body.isEmpty)
                #expect(notModified.header("ETag") == etag)
            }
            #expect(try await map.send(.get, path, as: alice, headers: ["If-None-Match": "\"0123\""]).status == 200)

            // A listing elsewhere leaves this tile cached.
            _ = try await map.createListing(as: alice, title: "far", lat: -33.87, lon: 151.21)
            #expect(try await map.send(.get, path, as: alice).header("X-Cache") == "HIT")

            // A listing inside it: the next response is fresh and has it.
            let second = try await map.createListing(as: alice, title: "second", lat: Self.berlin.lat + 0.001, lon: Self.berlin.lon + 0.001)
            let fresh = try await map.send(.get, path, as: alice)
            #expect(fresh.header("X-Cache") == "MISS")
            #expect(fresh.header("ETag") != etag)
            #expect(try featureIDs(fresh.body) == Set([first["id"] as? String, second["id"] as? String].compactMap { $0 }))
            #expect(try await map.send(.get, path, as: alice, headers: ["If-None-Match": etag]).status == 200)

            // Deleting invalidates too.
            let secondID = try #require(second["id"] as? String)
            _ = try await map.send(.get, path, as: alice)
            #expect(try await map.send(.delete, "/api/v1/listings/\(secondID)", as: alice).status == 204)
            let afterDelete = try await map.send(.get, path, as: alice)
            #expect(afterDelete.header("X-Cache") == "MISS")
            #expect(try featureIDs(afterDelete.body) == Set([first["id"] as? String].compactMap { $0 }))
        }
    }

    @Test("a new listing invalidates every cached zoom of its tile pyramid and neighbours whose buffer it falls in")
    func pyramidAndBufferInvalidation() async throws {
        try await MapHarness.run { map in
            let alice = try await map.user("alice")
            let point = (lat: 48.8566, lon: 2.3522)
            let zooms = [0, 3, 8, 12, 16, 22]
            let paths = zooms.map { zoom -> String in
                let tile = tileOf(lat: point.lat, lon: point.lon, zoom: zoom)
                return "/api/v1/tiles/\(tile.z)/\(tile.x)/\(tile.y).mvt"
            }
            // A neighbour: the point sits just east of its east edge, inside its buffer.
            let neighbour = tileOf(lat: point.lat, lon: point.lon, zoom: 14)
            let neighbourPath = "/api/v1/tiles/14/\(neighbour.x - 1)/\(neighbour.y).mvt"
            let edgeLon = Double(neighbour.x) / 16384 * 360 - 180 + (360.0 / 16384) * (10.0 / 4096)
            for path in paths + [neighbourPath] {
                _ = try await map.send(.get, path, as: alice)
                #expect(try await map.send(.get, path, as: alice).header("X-Cache") == "HIT", "\(path)")
            }
            let listing = try await map.createListing(as: alice, lat: point.lat, lon: point.lon)
            let id = try #require(listing["id"] as? String)
            for path in paths {
                let reply = try await map.send(.get, path, as: alice)
                #expect(reply.header("X-Cache") == "MISS", "\(path)")
                #expect(try featureIDs(reply.body).contains(id), "\(path)")
            }
            #expect(try await map.send(.get, neighbourPath, as: alice).header("X-Cache") == "HIT")

            let edge = try await map.createListing(as: alice, title: "edge", lat: point.lat, lon: edgeLon)
            let edgeID = try #require(edge["id"] as? String)
            let neighbourReply = try await map.send(.get, neighbourPath, as: alice)
            #expect(neighbourReply.header("X-Cache") == "MISS")
            let decoded = try VectorTile(neighbourReply.body)
            let layer = try #require(decoded.layers.first)
            let feature = try #require(layer.features.first { (try? decoded.properties(of: $0, in: layer)["id"]) == .string(edgeID) })
            let x = try #require(try VectorTile.points(of: feature).first).x
            #expect(x > 4096 && x < 4096 + 64, "drawn in the buffer, right of the tile: \(x)")
        }
    }

    @Test("nearby results are cached and invalidated when a listing in their circle changes, across the antimeridian and near a pole too")
    func nearbyCacheInvalidation() async throws {
        try await MapHarness.run { map in
            let alice = try await map.user("alice")
            _ = try await map.createListing(as: alice, title: "a", lat: Self.berlin.lat + 0.01, lon: Self.berlin.lon)
            let path = "/api/v1/listings/nearby?lat=\(Self.berlin.lat)&lon=\(Self.berlin.lon)&radius_m=2000"
            let miss = try await map.send(.get, path, as: alice)
            #expect(miss.header("X-Cache") == "MISS")
            #expect(miss.items.count == 1)
            let hit = try await map.send(.get, path, as: alice)
            #expect(hit.header("X-Cache") == "HIT")
            #expect(hit.body == miss.body)
            #expect(try await map.redisKeys("map:nearby:*").count == 1)

            _ = try await map.createListing(as: alice, title: "munich", lat: 48.137, lon: 11.575)
            #expect(try await map.send(.get, path, as: alice).header("X-Cache") == "HIT")

            let close = try await map.createListing(as: alice, title: "close", lat: Self.berlin.lat + 0.001, lon: Self.berlin.lon)
            let closeID = try #require(close["id"] as? String)
            let fresh = try await map.send(.get, path, as: alice)
            #expect(fresh.header("X-Cache") == "MISS")
            #expect(fresh.items.map { $0["id"] as? String } .first == closeID)
            #expect(fresh.items.count == 2)
            #expect(try await map.send(.get, path, as: alice).header("X-Cache") == "HIT")
            #expect(try await map.send(.delete, "/api/v1/listings/\(closeID)", as: alice).status == 204)
            let afterDelete = try await map.send(.get, path, as: alice)
            #expect(afterDelete.header("X-Cache") == "MISS")
            #expect(afterDelete.items.count == 1)

            // Across the antimeridian: a circle around 179.99 E includes 179.99 W.
            let dateLine = "/api/v1/listings/nearby?lat=0&lon=179.99&radius_m=5000"
            #expect(try await map.send(.get, dateLine, as: alice).items.isEmpty)
            #expect(try await map.send(.get, dateLine, as: alice).header("X-Cache") == "HIT")
            _ = try await map.createListing(as: alice, title: "west", lat: 0, lon: -179.99)
            let wrapped = try await map.send(.get, dateLine, as: alice)
            #expect(wrapped.header("X-Cache") == "MISS")
            #expect(wrapped.items.count == 1)

            // Around the north pole, beyond Web Mercator's latitude limit.
            let pole = "/api/v1/listings/nearby?lat=89.99&lon=0&radius_m=5000"
            #expect(try await map.send(.get, pole, as: alice).items.isEmpty)
            #expect(try await map.send(.get, pole, as: alice).header("X-Cache") == "HIT")
            _ = try await map.createListing(as: alice, title: "north", lat: 89.995, lon: 170)
            let polar = try await map.send(.get, pole, as: alice)
            #expect(polar.header("X-Cache") == "MISS")
            #expect(polar.items.count == 1)
        }
    }

    @Test("with Redis down, reads bypass the cache and writes still succeed; /ready reports it")
    func redisDown() async throws {
        try await MapHarness.run { map in
            let alice = try await map.user("alice")
            await map.redisServer.stop()
            let created = try await map.send(.post, "/api/v1/listings", as: alice, json: #"{"title": "x", "lat": 10, "lon": 10}"#)
            #expect(created.status == 201)
            let nearby = try await map.send(.get, "/api/v1/listings/nearby?lat=10&lon=10&radius_m=100", as: alice)
            #expect(nearby.status == 200)
            #expect(nearby.header("X-Cache") == "BYPASS")
            #expect(nearby.items.count == 1)
            let tile = try await map.send(.get, "/api/v1/tiles/0/0/0.mvt", as: alice)
            #expect(tile.status == 200)
            #expect(tile.header("X-Cache") == "BYPASS")
            let ready = try await map.send(.get, "/ready", as: nil)
            #expect(ready.status == 503)
            #expect((ready.json["checks"] as? [String: String])?["redis"] == "failing")
        }
    }
}

/// The tile holding a point, computed here independently of the service.
func tileOf(lat: Double, lon: Double, zoom: Int) -> TileKey {
    let n = Double(1 << zoom)
    let phi = lat * .pi / 180
    let x = Int(floor((lon + 180) / 360 * n))
    let y = Int(floor((1 - log(tan(phi) + 1 / cos(phi)) / .pi) / 2 * n))
    return TileKey(z: zoom, x: min(max(x, 0), Int(n) - 1), y: min(max(y, 0), Int(n) - 1))
}

/// Where a point falls in a tile's 4096-unit grid.
func tilePixel(lat: Double, lon: Double, tile: TileKey) -> (x: Int64, y: Int64) {
    let n = Double(1 << tile.z)
    let phi = lat * .pi / 180
    let fx = (lon + 180) / 360 * n
    let fy = (1 - log(tan(phi) + 1 / cos(phi)) / .pi) / 2 * n
    return (Int64(((fx - Double(tile.x)) * 4096).rounded()), Int64(((fy - Double(tile.y)) * 4096).rounded()))
}

struct TileKey: Equatable {
    var z: Int
    var x: Int
    var y: Int
}

/// The `id` properties of a tile's features.
func featureIDs(_ bytes: Data) throws -> Set<String> {
    let tile = try VectorTile(bytes)
    var ids = Set<String>()
    for layer in tile.layers {
        for feature in layer.features {
            if case .string(let id) = try tile.properties(of: feature, in: layer)["id"] { ids.insert(id) }
        }
    }
    return ids
}
