import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LocalServers
import Logging
import MapService
import NIOCore
import ServiceKit
import SwapPostgres
import SwapRedis

let testSecret = "map-test-secret-0123456789abcdef0123"

/// A signed-in test user: a row in auth.users and an access token for it.
struct TestUser: Sendable {
    let id: UUID
    let token: String
    var idString: String { id.uuidString.lowercased() }
}

/// The map service on 127.0.0.1 with its own PostgreSQL (PostGIS) and Redis,
/// driven over HTTP; everything is stopped when the test ends, also on failure.
struct MapHarness: Sendable {
    let client: any TestClientProtocol
    let postgres: PostgresPool
    let redis: RedisPool
    let redisServer: RedisServer

    static func run(
        environment extra: [String: String] = [:],
        _ body: @Sendable (MapHarness) async throws -> Void
    ) async throws {
        try await withPostgres { postgresServer in
            try await withRedis { redisServer in
                let secrets = FileManager.default.temporaryDirectory.appendingPathComponent("map-test-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: secrets, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: secrets) }
                let jwtFile = secrets.appendingPathComponent("jwt_secret")
                let urlFile = secrets.appendingPathComponent("database_url")
                try Data("\(testSecret)\n".utf8).write(to: jwtFile)
                try Data(postgresServer.url(database: "swap").utf8).write(to: urlFile)
                var environment = [
                    "SERVICE_NAME": "map",
                    "PORT": "3004",
                    "HOST": "127.0.0.1",
                    "JWT_SECRET_FILE": jwtFile.path,
                    "DATABASE_URL_FILE": urlFile.path,
                    "REDIS_URL": redisServer.url,
                    "TILE_CACHE_TTL": "300s",
                ]
                environment.merge(extra) { $1 }
                var configuration = try MapConfiguration(environment: environment)
                configuration.common.port = 0
                let app = try await buildApplication(configuration: configuration, logger: quietLogger)
                let pool = PostgresPool(configuration: PostgresConfiguration(connectionString: postgresServer.url(database: "swap")), maxConnections: 4)
                let redis = RedisPool(configuration: try RedisConfiguration(url: redisServer.url), maxConnections: 2)
                do {
                    try await app.test(.live) { client in
                        try await body(MapHarness(client: client, postgres: pool, redis: redis, redisServer: redisServer))
                    }
                    await pool.close()
                    await redis.close()
                } catch {
                    await pool.close()
                    await redis.close()
                    throw error
                }
            }
        }
    }

    /// Inserts a user into auth.users (as the gateway's sign-up would) and signs a token for it.
    func user(_ name: String = "user") async throws -> TestUser {
        let email = "\(name)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        let rows = try await postgres.query("INSERT INTO auth.users (email, encrypted_password) VALUES (\(email), 'x') RETURNING id")
        let id = try rows[0].decode(UUID.self, column: 0)
        return TestUser(id: id, token: Self.token(for: id, email: email))
    }

    static func token(for id: UUID, email: String = "someone@example.com") -> String {
        let now = Int(Date().timeIntervalSince1970)
        return AccessToken(secret: testSecret).sign(.init(sub: id.uuidString.lowercased(), email: email, iat: now, exp: now + 600))
    }

    /// Sends a request; `json` is sent as the body with Content-Type application/json.
    @discardableResult
    func send(_ method: HTTPRequest.Method, _ path: String, as user: TestUser?, json: String? = nil, headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = extra
        if let user { headers[.authorization] = "Bearer \(user.token)" }
        var body: ByteBuffer?
        if let json {
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
            body = ByteBuffer(string: json)
        }
        let response = try await client.executeRequest(uri: path, method: method, headers: headers, body: body)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Array(response.body.readableBytesView))
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

struct Reply: Sendable {
    let status: Int
    let headers: HTTPFields
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

let quietLogger: Logger = {
    var logger = Logger(label: "map-test")
    logger.logLevel = .warning
    return logger
}()

/// The value of the sample of `name` carrying every label in `labels`, from Prometheus text.
func metricValue(_ exposition: String, _ name: String, _ labels: [String: String]) -> Double? {
    for line in exposition.split(separator: "\n") where line.hasPrefix(name + "{") {
        guard let close = line.lastIndex(of: "}") else { continue }
        let labelText = line[line.index(line.startIndex, offsetBy: name.count + 1)..<close]
        if labels.allSatisfy({ labelText.contains("\($0.key)=\"\($0.value)\"") }) {
            return Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces))
        }
    }
    return nil
}
