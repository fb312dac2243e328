import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceKit
import SwapKafka
import SwapRedis
import Testing

@Suite("Access tokens")
struct AccessTokenTests {
    let tokens = AccessToken(secret: "unit-test-secret")
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func claims(aud: String = "authenticated", role: String = "authenticated", expiresIn: Int = 3600) -> AccessToken.Claims {
        let issued = Int(now.timeIntervalSince1970)
        return AccessToken.Claims(sub: UUID().uuidString.lowercased(), email: "ada@example.com", role: role, aud: aud, iat: issued, exp: issued + expiresIn)
    }

    func verify(_ token: String) -> Result<AccessToken.Claims, AccessToken.Failure> {
        Result { () throws(AccessToken.Failure) in try tokens.verify(token, now: now) }
    }

    @Test func validTokenGivesItsClaims() throws {
        let claims = claims()
        #expect(try tokens.verify(tokens.sign(claims), now: now) == claims)
    }

    @Test func expiredTokenIsRefused() {
        #expect(verify(tokens.sign(claims(expiresIn: -1))) == .failure(.expired))
        #expect(verify(tokens.sign(claims(expiresIn: 0))) == .failure(.expired))
    }

    @Test func tamperedTokenIsRefused() throws {
        let token = tokens.sign(claims())
        let parts = token.split(separator: ".").map(String.init)
        var payload = try #require(Base64URL.decode(parts[1]))
        payload = Data(String(decoding: payload, as: UTF8.self).replacingOccurrences(of: "ada@", with: "eve@").utf8)
        #expect(verify([parts[0], Base64URL.encode(payload), parts[2]].joined(separator: ".")) == .failure(.badSignature))
        #expect(verify(AccessToken(secret: "another-secret").sign(claims())) == .failure(.badSignature))
    }

    @Test func algorithmNoneIsRefused() throws {
        let header = Base64URL.encode(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let payload = Base64URL.encode(try JSONEncoder().encode(claims()))
        #expect(verify("\(header).\(payload).") == .failure(.unsupportedAlgorithm))
        let hs512 = Base64URL.encode(Data(#"{"alg":"HS512","typ":"JWT"}"#.utf8))
        #expect(verify("\(hs512).\(payload).AAAA") == .failure(.unsupportedAlgorithm))
    }

    @Test func wrongAudienceAndRoleAreRefused() {
        #expect(verify(tokens.sign(claims(aud: "service_role"))) == .failure(.wrongAudience))
        #expect(verify(tokens.sign(claims(role: "service_role"))) == .failure(.wrongRole))
    }

    @Test func malformedTokensAreRefused() {
        for token in ["", "abc", "a.b", "a.b.c.d", "!!.??.##"] {
            #expect(verify(token) == .failure(.malformed), "\(token)")
        }
    }
}

@Suite("Environment reader")
struct EnvironmentReaderTests {
    @Test func collectsEveryProblemAtOnce() throws {
        let reader = EnvironmentReader([
            "PORT": "99999",
            "DATABASE_HOST": "db",
            "DATABASE_PASSWORD_FILE": "/nonexistent/secret",
            "SHUTDOWN_GRACE_PERIOD": "soon",
        ])
        _ = CommonConfiguration(reader: reader, defaultName: "financial")
        _ = reader.postgres()
        let error = #expect(throws: ConfigurationError.self) { try reader.finish(service: "financial") }
        let problems = try #require(error?.problems)
        #expect(problems.contains { $0.hasPrefix("PORT must be an integer in 1...65535") })
        #expect(problems.contains("JWT_SECRET_FILE is required (the path of the file holding JWT_SECRET)"))
        #expect(problems.contains("DATABASE_USER is required"))
        #expect(problems.contains("DATABASE_NAME is required"))
        #expect(problems.contains { $0.contains("/nonexistent/secret") })
        #expect(problems.contains { $0.hasPrefix("SHUTDOWN_GRACE_PERIOD must be a duration") })
        #expect(problems.count == 6)
        #expect(error?.description.hasPrefix("financial: invalid configuration:\n  - ") == true)
    }

    @Test func readsSecretsFromFiles() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("jwt-\(UUID().uuidString)")
        try "s3cret\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let reader = EnvironmentReader(["PORT": "3002", "JWT_SECRET_FILE": file.path, "KAFKA_TOPICS": "a,b"])
        let configuration = CommonConfiguration(reader: reader, defaultName: "financial")
        try reader.finish(service: "financial")
        #expect(configuration.jwtSecret == "s3cret")
        #expect(configuration.port == 3002)
        #expect(reader.kafkaTopics(default: ["c"]) == ["a", "b"])
        #expect(reader.problems.isEmpty)
    }

    @Test func readsTheDependenciesAServiceUses() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("db-url-\(UUID().uuidString)")
        try "postgres://swap@db.internal:25060/swap?sslmode=require\n".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let reader = EnvironmentReader([
            "DATABASE_URL_FILE": url.path, "REDIS_URL": "redis://cache:6380/2", "KAFKA_BROKERS": " k1:9092, ,k2:9092 ",
            "KAFKA_CONSUMER_GROUP": "points", "KAFKA_SESSION_TIMEOUT": "3s",
        ])
        _ = reader.postgres()
        let redis = reader.redis()
        #expect(redis.host == "cache" && redis.port == 6380 && redis.database == 2)
        #expect(reader.kafkaBrokers() == ["k1:9092", "k2:9092"])
        #expect(reader.kafkaConsumerGroup() == "points")
        #expect(reader.kafkaTopics(default: ["financial.transactions"]) == ["financial.transactions"])
        #expect(reader.kafkaSessionTimeout() == .seconds(3))
        #expect(reader.databasePoolSize() == 10)
        try reader.finish(service: "points")
        let consumer = KafkaConsumerConfiguration.member(of: "points", brokers: ["k1:9092"], service: "points", sessionTimeout: .seconds(6))
        #expect(consumer.sessionTimeout == .seconds(6) && consumer.heartbeatInterval == .seconds(2))
    }

    @Test func reportsEveryMissingOrMalformedDependency() throws {
        let managed = EnvironmentReader(["DATABASE_URL_FILE": "/nonexistent/database-url"])
        _ = managed.postgres()
        #expect(managed.problems == ["DATABASE_URL_FILE names /nonexistent/database-url, which cannot be read"])
        let reader = EnvironmentReader([
            "REDIS_URL": "http://cache", "KAFKA_SESSION_TIMEOUT": "10m", "KAFKA_CONSUMER_ENABLED": "maybe", "REPLAY_WINDOW": "90s",
        ])
        _ = reader.postgres()
        _ = reader.redis()
        _ = reader.kafkaBrokers()
        _ = reader.kafkaConsumerGroup()
        #expect(reader.kafkaSessionTimeout() == .seconds(10), "an out-of-range value falls back to the default")
        _ = reader.bool("KAFKA_CONSUMER_ENABLED", default: true)
        _ = reader.duration("REPLAY_WINDOW", default: .seconds(900), in: .seconds(600)...(.seconds(86_400)), why: "replayable for 10 minutes")
        #expect(reader.problems == [
            "DATABASE_HOST (or DATABASE_URL_FILE) is required",
            "REDIS_URL must be redis://[[user]:password@]host[:port][/database]",
            "KAFKA_BROKERS is required (host:port[,host:port...])",
            "KAFKA_CONSUMER_GROUP is required",
            "KAFKA_SESSION_TIMEOUT must be between 1s and 5m, found '10m'",
            "KAFKA_CONSUMER_ENABLED must be true or false, found 'maybe'",
            "REPLAY_WINDOW must be between 10m and 1d (replayable for 10 minutes), found '90s'",
        ])
    }
}

@Suite("Pagination")
struct PaginationTests {
    struct Cursor: Codable, Sendable, Equatable {
        var createdAt: Date
        var id: UUID
    }

    struct Item: Codable, Sendable {
        var id: UUID
        var createdAt: Date
    }

    @Test func cursorRoundTrips() throws {
        let cursor = Cursor(createdAt: Date(timeIntervalSince1970: 1_700_000_000.5), id: UUID())
        let text = OpaqueCursor.encode(cursor)
        #expect(!text.contains("="))
        #expect(OpaqueCursor.decode(text, as: Cursor.self) == cursor)
        // Times travel as RFC 3339 with microseconds, PostgreSQL's precision,
        // so a keyset cursor built from a row's created_at finds that row again.
        let precise = Cursor(createdAt: Date(timeIntervalSince1970: 1_700_000_000.123456), id: UUID())
        #expect(OpaqueCursor.decode(OpaqueCursor.encode(precise), as: Cursor.self) == precise)
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 1_700_000_000.123456)) == "2023-11-14T22:13:20.123456Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500000Z")
        #expect(OpaqueCursor.decode("not base64!", as: Cursor.self) == nil)
        #expect(OpaqueCursor.decode(Base64URL.encode(Data(#"{"id": 3}"#.utf8)), as: Cursor.self) == nil)
        #expect(OpaqueCursor.decode(String(repeating: "A", count: 600), as: Cursor.self) == nil)
    }

    @Test func pageFromOneExtraRow() throws {
        let items = (0..<3).map { Item(id: UUID(), createdAt: Date(timeIntervalSince1970: Double(1_700_000_000 + $0))) }
        let page = Page(fetched: items, limit: 2) { Cursor(createdAt: $0.createdAt, id: $0.id) }
        #expect(page.items.count == 2)
        let next = try #require(page.nextCursor)
        #expect(OpaqueCursor.decode(next, as: Cursor.self) == Cursor(createdAt: items[1].createdAt, id: items[1].id))
        let last = Page(fetched: Array(items.prefix(2)), limit: 2) { Cursor(createdAt: $0.createdAt, id: $0.id) }
        #expect(last.nextCursor == nil)
        let json = try #require(try JSONSerialization.jsonObject(with: APIJSON.encoder.encode(last)) as? [String: Any])
        #expect(json["next_cursor"] is NSNull)
    }

    @Test func queryParametersAreChecked() async throws {
        let router = ServiceRouter.make(metrics: ServiceMetrics(service: "pagination-test"), checks: [])
        router.get("/items") { request, _ -> Page<Item> in
            let page = try PageRequest<Cursor>(request)
            return Page(items: [], nextCursor: page.cursor.map { OpaqueCursor.encode($0) + "|\(page.limit)" } ?? "\(page.limit)")
        }
        let cursor = OpaqueCursor.encode(Cursor(createdAt: Date(timeIntervalSince1970: 1_700_000_000), id: UUID()))
        try await Application(router: router).test(.router) { client in
            let plain = try await client.execute(uri: "/items", method: .get)
            #expect(plain.status == .ok)
            #expect(String(buffer: plain.body).contains(#""next_cursor":"20""#))
            let withCursor = try await client.execute(uri: "/items?limit=5&cursor=\(cursor)", method: .get)
            #expect(String(buffer: withCursor.body).contains("\(cursor)|5"))
            for query in ["limit=0", "limit=101", "limit=abc", "cursor=%%%", "cursor=eyJmb28iOjF9"] {
                let response = try await client.execute(uri: "/items?\(query)", method: .get, headers: [.requestID: "r-\(query.count)"])
                #expect(response.status == .badRequest, "\(query)")
                let body = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
                let error = try #require(body["error"] as? [String: Any])
                #expect(error["code"] as? String == (query.hasPrefix("limit") ? "invalid_limit" : "invalid_cursor"))
                #expect(error["request_id"] as? String == "r-\(query.count)")
            }
        }
    }
}

@Suite("Event envelope")
struct EventEnvelopeTests {
    struct Payload: Codable, Equatable {
        var fromUserId: UUID
        var amount: Int64
        var note: String?
        var createdAt: Date
    }

    @Test func wireFormatMatchesTheContract() throws {
        let payload = Payload(fromUserId: UUID(), amount: 9_007_199_254_740_993, note: "a/b \"q\"", createdAt: Date(timeIntervalSince1970: 1_800_000_000.5))
        let event = try EventEnvelope(topic: "financial.transactions", key: "user", type: "transaction.completed", data: payload)
        let value = try event.encodedValue()
        let text = String(decoding: value, as: UTF8.self)
        #expect(text.hasPrefix(#"{"data":{"amount":9007199254740993,"created_at":"2027-01-15T08:00:00.500000Z","from_user_id":""#))
        #expect(text.contains(#""event_id":"\#(event.eventIDString)""#))
        #expect(text.contains(#""type":"transaction.completed""#))
        let decoded = try EventEnvelope.decode(value: value, topic: "financial.transactions", key: "user")
        #expect(decoded == event)
        #expect(try decoded.decodeData(Payload.self) == payload)
        #expect(event.headers.map(\.key) == ["event_id", "type"])
        #expect(throws: EventDecodingError.self) { try EventEnvelope.decode(value: Array("{}".utf8), topic: "t", key: nil) }
        #expect(throws: EventDecodingError.self) {
            try EventEnvelope.decode(value: Array(#"{"event_id":"x","type":"t","occurred_at":"2026-01-01T00:00:00Z","data":{}}"#.utf8), topic: "t", key: nil)
        }
    }
}
