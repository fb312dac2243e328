import Foundation
import HTTPTypes
import ServiceTesting
import SwapPostgres
import Testing

@Suite("Map listings", .serialized, .timeLimit(.minutes(10)))
struct ListingsTests {
    @Test("create, read by anyone signed in, delete by the owner only (others get 404)")
    func createReadDelete() async throws {
        try await MapHarness.run { map in
            let alice = try await map.user("alice")
            let bob = try await map.user("bob")
            let created = try await map.send(.post, "/api/v1/listings", as: alice, json: #"{"title": "Road bike", "lat": 52.52, "lon": 13.405, "category": "bikes"}"#)
            #expect(created.status == 201)
            #expect(created.header("X-Request-ID") != nil)
            let listing = try #require(created.json["listing"] as? [String: Any])
            let id = try #require(listing["id"] as? String)
            #expect(id == id.lowercased() && UUID(uuidString: id) != nil)
            #expect(listing["owner_id"] as? String == alice.idString)
            #expect(listing["title"] as? String == "Road bike")
            #expect(listing["category"] as? String == "bikes")
            #expect(listing["lat"] as? Double == 52.52)
            #expect(listing["lon"] as? Double == 13.405)
            #expect((listing["created_at"] as? String)?.hasSuffix("Z") == true)
            #expect(Set(listing.keys) == ["id", "owner_id", "title", "category", "lat", "lon", "created_at"])

            // Without a category it is null, not omitted.
            let plain = try await map.send(.post, "/api/v1/listings", as: alice, json: #"{"title": "Lamp", "lat": -33.9, "lon": 151.2}"#)
            #expect(plain.status == 201)
            let plainListing = try #require(plain.json["listing"] as? [String: Any])
            #expect(plainListing.keys.contains("category") && plainListing["category"] is NSNull)

            let byBob = try await map.send(.get, "/api/v1/listings/\(id)", as: bob)
            #expect(byBob.status == 200)
            #expect((byBob.json["listing"] as? [String: Any])?["title"] as? String == "Road bike")

            let bobDeletes = try await map.send(.delete, "/api/v1/listings/\(id)", as: bob)
            #expect(bobDeletes.status == 404)
            #expect(bobDeletes.errorCode == "not_found")
            #expect(try await map.send(.get, "/api/v1/listings/\(id)", as: bob).status == 200)

            let aliceDeletes = try await map.send(.delete, "/api/v1/listings/\(id)", as: alice)
            #expect(aliceDeletes.status == 204)
            #expect(aliceDeletes.body.isEmpty)
            #expect(try await map.send(.get, "/api/v1/listings/\(id)", as: alice).status == 404)
            #expect(try await map.send(.delete, "/api/v1/listings/\(id)", as: alice).status == 404)
            #expect(try await map.send(.get, "/api/v1/listings/\(UUID().uuidString.lowercased())", as: alice).status == 404)
            let malformed = try await map.send(.get, "/api/v1/listings/not-a-uuid", as: alice)
            #expect(malformed.status == 400)
            #expect(try await map.send(.delete, "/api/v1/listings/not-a-uuid", as: alice).status == 400)
        }
    }

    @Test("bad input is 400, no token 401, never a 500")
    func validation() async throws {
        try await MapHarness.run { map in
            let alice = try await map.user("alice")
            let bad = [
                #"{"title": "", "lat": 1, "lon": 1}"#,
                #"{"title": "   ", "lat": 1, "lon": 1}"#,
                "{\"title\": \"\(String(repeating: "x", count: 201))\", \"lat\": 1, \"lon\": 1}",
                #"{"title": "a\u0000b", "lat": 1, "lon": 1}"#,
                #"{"lat": 1, "lon": 1}"#,
                #"{"title": "x", "lon": 1}"#,
                #"{"title": "x", "lat": 1}"#,
                #"{"title": "x", "lat": 90.0001, "lon": 1}"#,
                #"{"title": "x", "lat": -91, "lon": 1}"#,
                #"{"title": "x", "lat": 1, "lon": 180.5}"#,
                #"{"title": "x", "lat": 1, "lon": -181}"#,
                #"{"title": "x", "lat": "north", "lon": 1}"#,
                #"{"title": 5, "lat": 1, "lon": 1}"#,
                #"{"title": "x", "lat": 1, "lon": 1, "category": ""}"#,
                #"{"title": "x", "lat": 1e400, "lon": 1}"#,
                "not json",
                "[]",
            ]
            for json in bad {
                let reply = try await map.send(.post, "/api/v1/listings", as: alice, json: json)
                #expect(reply.status == 400, "\(json) -> \(reply.status) \(reply.text)")
                #expect(reply.errorCode != nil)
            }
            // The limits themselves are fine: 200 code points, the poles, the antimeridian.
            let longest = String(repeating: "é", count: 200)
            for (lat, lon) in [(90.0, 0.0), (-90.0, 180.0), (0.0, -180.0)] {
                let reply = try await map.send(.post, "/api/v1/listings", as: alice, json: "{\"title\": \"\(longest)\", \"lat\": \(lat), \"lon\": \(lon)}")
                #expect(reply.status == 201, "\(lat),\(lon) -> \(reply.status) \(reply.text)")
            }
            let wrongType = try await map.send(.post, "/api/v1/listings", as: alice, json: #"{"title": "x", "lat": 1, "lon": 1}"#, headers: ["Content-Type": "text/plain"])
            #expect(wrongType.status == 415)

            for path in ["/api/v1/listings", "/api/v1/listings/nearby?lat=1&lon=1&radius_m=10", "/api/v1/tiles/0/0/0.mvt",
                         "/api/v1/listings/\(UUID().uuidString)"] {
                let reply = try await map.send(path == "/api/v1/listings" ? .post : .get, path, as: nil, json: path == "/api/v1/listings" ? #"{"title": "x", "lat": 1, "lon": 1}"# : nil)
                #expect(reply.status == 401, "\(path)")
                #expect(reply.errorCode == "unauthorized")
            }
            let forged = ["Authorization": "Bearer " + MapHarness.token(for: alice.id).dropLast(2) + "xx"]
            #expect(try await map.send(.get, "/api/v1/listings/nearby?lat=1&lon=1&radius_m=10", as: nil, headers: forged).status == 401)

            // A valid token whose user no longer exists cannot create listings.
            let ghostID = UUID()
            let ghost = TestUser(id: ghostID, token: MapHarness.token(for: ghostID))
            #expect(try await map.send(.post, "/api/v1/listings", as: ghost, json: #"{"title": "x", "lat": 1, "lon": 1}"#).status == 401)

            for query in ["lon=1&radius_m=10", "lat=1&radius_m=10", "lat=1&lon=1", "lat=91&lon=1&radius_m=10", "lat=1&lon=-180.1&radius_m=10",
                          "lat=x&lon=1&radius_m=10", "lat=nan&lon=1&radius_m=10", "lat=1&lon=1&radius_m=0", "lat=1&lon=1&radius_m=0.5",
                          "lat=1&lon=1&radius_m=50001", "lat=1&lon=1&radius_m=inf", "lat=1&lon=1&radius_m=10&limit=0",
                          "lat=1&lon=1&radius_m=10&limit=101", "lat=1&lon=1&radius_m=10&limit=ten"] {
                let reply = try await map.send(.get, "/api/v1/listings/nearby?\(query)", as: alice)
                #expect(reply.status == 400, "\(query) -> \(reply.status)")
            }
            #expect(try await map.send(.get, "/api/v1/listings/nearby?lat=1&lon=1&radius_m=50000&limit=100", as: alice).status == 200)

            let health = try await map.send(.get, "/health", as: nil)
            #expect(health.status == 200)
            let ready = try await map.send(.get, "/ready", as: nil)
            #expect(ready.status == 200)
            #expect((ready.json["checks"] as? [String: String]) == ["postgres": "ok", "redis": "ok"])
        }
    }

    @Test("nearby search equals a brute-force haversine check on 1000 random listings, nearest first")
    func nearbyMatchesBruteForce() async throws {
        try await MapHarness.run { map in
            let alice = try await map.user("alice")
            var generator = SplitMix64(seed: 0x5EED_CAFE)
            let centre = (lat: 48.137, lon: 11.575)
            var points: [String: (lat: Double, lon: Double)] = [:]
            for index in 0..<1000 {
                let lat = centre.lat + Double.random(in: -0.4...0.4, using: &generator)
                let lon = centre.lon + Double.random(in: -0.6...0.6, using: &generator)
                let listing = try await map.createListing(as: alice, title: "item \(index)", lat: lat, lon: lon)
                points[try #require(listing["id"] as? String)] = (lat, lon)
            }
            // The spatial index is there and is what a nearby search uses.
            let indexes = try await map.postgres.query("SELECT indexdef FROM pg_indexes WHERE tablename = 'listings'")
                .map { try $0.decode(String.self, column: 0) }
            #expect(indexes.contains { $0.contains("USING gist (location)") })
            let plan = try await map.postgres.withConnection { connection in
                try await connection.execute("SET enable_seqscan = off")
                return try await connection.query("""
                    EXPLAIN SELECT id FROM listings
                    WHERE ST_DWithin(location, ST_SetSRID(ST_MakePoint(11.5, 48.1), 4326)::geography, 5000, false)
                    """).map { try $0.decode(String.self, column: 0) }.joined(separator: "\n")
            }
            #expect(plan.contains("listings_location_idx"))

            let queries: [(lat: Double, lon: Double, radius: Double, limit: Int?)] = [
                (centre.lat, centre.lon, 5000, 100),
                (centre.lat, centre.lon, 20_000, 100),
                (centre.lat + 0.2, centre.lon - 0.3, 12_345.6, 50),
                (centre.lat, centre.lon, 50_000, 100),
                (centre.lat - 0.39, centre.lon + 0.59, 3000, nil),
                (centre.lat, centre.lon, 1, 10),
                (0, 0, 50_000, 10),
            ]
            for query in queries {
                var path = "/api/v1/listings/nearby?lat=\(query.lat)&lon=\(query.lon)&radius_m=\(query.radius)"
                if let limit = query.limit { path += "&limit=\(limit)" }
                let reply = try await map.send(.get, path, as: alice)
                #expect(reply.status == 200)
                let items = reply.items
                let expected = points
                    .map { (id: $0.key, distance: haversine(query.lat, query.lon, $0.value.lat, $0.value.lon)) }
                    .filter { $0.distance <= query.radius }
                    .sorted { ($0.distance, $0.id) < ($1.distance, $1.id) }
                    .prefix(query.limit ?? 20)
                #expect(items.count == expected.count, "\(path): \(items.count) items, expected \(expected.count)")
                var previous = -1.0
                for (item, want) in zip(items, expected) {
                    let id = try #require(item["id"] as? String)
                    let distance = try #require(item["distance_m"] as? Double)
                    let point = try #require(points[id])
                    #expect(abs(distance - haversine(query.lat, query.lon, point.lat, point.lon)) < 0.01, "distance of \(id)")
                    #expect(distance >= previous, "not nearest first")
                    previous = distance
                    // The same order, up to listings at the same distance (within a centimetre).
                    #expect(id == want.id || abs(distance - want.distance) < 0.01)
                    #expect(item["owner_id"] as? String == alice.idString)
                }
                // Coordinates come back exactly as sent (decoded with JSONDecoder: JSONSerialization rounds).
                struct Item: Decodable { var id: String; var lat: Double; var lon: Double }
                struct Items: Decodable { var items: [Item] }
                for item in try JSONDecoder().decode(Items.self, from: Data(reply.body)).items {
                    #expect(item.lat == points[item.id]?.lat && item.lon == points[item.id]?.lon)
                }
            }
        }
    }
}

/// Great-circle distance on PostGIS's sphere (the mean radius of WGS 84).
func haversine(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
    let radius = 6_371_008.771_4
    let phi1 = lat1 * .pi / 180, phi2 = lat2 * .pi / 180
    let dPhi = (lat2 - lat1) * .pi / 180, dLambda = (lon2 - lon1) * .pi / 180
    let a = sin(dPhi / 2) * sin(dPhi / 2) + cos(phi1) * cos(phi2) * sin(dLambda / 2) * sin(dLambda / 2)
    return 2 * radius * asin(min(1, sqrt(a)))
}

/// A seeded generator, so a failure can be reproduced.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
