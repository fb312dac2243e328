import Foundation
import HTTPTypes
import LocalServers
import Logging
import MapService
import ServiceKit
import ServiceTesting
import SwapPostgres
import SwapRedis

let quietLogger = Logger.quiet("map-test")

/// The map service on 127.0.0.1 with its own PostgreSQL (PostGIS) and Redis,
/// driven over HTTP; everything is stopped when the test ends, also on failure.
struct MapHarness: Sendable, TestUserSource {
    static let secret = "map-test-secret-0123456789abcdef0123"
    static let tokens = AccessToken(secret: secret)

    let client: ServiceClient
    let postgres: PostgresPool
    let redis: RedisPool
    let redisServer: RedisServer

    static func run(
        environment extra: [String: String] = [:],
        _ body: @Sendable (MapHarness) async throws -> Void
    ) async throws {
        try await withPostgres { postgresServer in
            try await withRedis { redisServer in
                try await withSecretFiles("map-test") { secrets in
                    let environment = try ServiceSettings.common("map", jwtSecretFile: secrets.write("jwt_secret", "\(secret)\n")).merging([
                        "DATABASE_URL_FILE": try secrets.write("database_url", postgresServer.url(database: "swap")),
                        "REDIS_URL": redisServer.url,
                        "TILE_CACHE_TTL": "300s",
                    ]) { $1 }.merging(extra) { $1 }
                    let configuration = try MapConfiguration(environment: environment)
                    let app = try await buildApplication(configuration: configuration, logger: quietLogger)
                    try await withPostgresPool("swap", on: postgresServer) { pool in
                        let redis = RedisPool(configuration: try RedisConfiguration(url: redisServer.url), maxConnections: 2)
                        do {
                            try await withRunningApplication(app, port: configuration.common.port, readiness: .listening, logger: quietLogger) { running in
                                try await withServiceClient(port: running.port) { client in
                                    try await body(MapHarness(client: client, postgres: pool, redis: redis, redisServer: redisServer))
                                }
                            }
                            await redis.close()
                        } catch {
                            await redis.close()
                            throw error
                        }
                    }
                }
            }
        }
    }

    /// Sends a request as `user` (or without a token); `json` is sent as the body.
    @discardableResult
    func send(_ method: HTTPRequest.Method, _ path: String, as user: TestUser?, json: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        try await client.send(method, path, token: user?.token, json: json, headers: headers)
    }

    /// Creates a listing through the API and returns its JSON object.
    func createListing(as user: TestUser, title: String = "Bike", lat: Double, lon: Double, category: String? = nil) async throws -> [String: Any] {
        // Numbers as Swift prints them (shortest round-trip form), so the service gets exactly these doubles.
        func quoted(_ text: String) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: text, options: .fragmentsAllowed), as: UTF8.self)
        }
        var json = "{\"title\": \(try quoted(title)), \"lat\": \(lat), \"lon\": \(lon)"
        if let category { json += ", \"category\": \(try quoted(category))" }
        json += "}"
        let reply = try await send(.post, "/api/v1/listings", as: user, json: json)
        guard reply.status == 201, let listing = reply.json["listing"] as? [String: Any] else {
            throw TestFailure("creating a listing answered \(reply.status): \(reply.text)")
        }
        return listing
    }

    /// Keys in the test's Redis matching a glob pattern.
    func redisKeys(_ pattern: String) async throws -> [String] {
        try await redis.send("KEYS", pattern).array?.compactMap(\.string) ?? []
    }
}
