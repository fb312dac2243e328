import AsyncHTTPClient
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LocalServers
import Logging
import NIOCore
import NIOHTTP1
import ServiceKit
import ServiceLifecycle
import Synchronization

let testSecret = "gateway-test-secret-0123456789abcdef"

/// A running gateway on 127.0.0.1 with its own PostgreSQL and Redis, and a client for it.
struct GatewayHarness: Sendable {
    let port: Int
    let http: HTTPClient
    let redis: RedisServer
    let postgres: PostgresServer

    var tokens: AccessToken { AccessToken(secret: testSecret) }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// A valid access token for a new random user (no signup needed for proxy tests).
    func token(user: UUID = UUID(), email: String = "someone@example.com", ttl: Int = 600, audience: String = "authenticated") -> String {
        let now = Int(Date().timeIntervalSince1970)
        return tokens.sign(.init(sub: user.uuidString.lowercased(), email: email, aud: audience, iat: now, exp: now + ttl))
    }

    /// Sends a request with a buffered body and collects the response.
    func send(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], json: String? = nil, bearer: String? = nil
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url(path))
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 10 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: String(buffer: body))
    }

    /// Starts PostgreSQL, Redis and the gateway (with `environment` added to the
    /// standard test settings), runs `body`, and stops everything, also on failure.
    static func run(
        environment extra: [String: String] = [:],
        _ body: @Sendable (GatewayHarness) async throws -> Void
    ) async throws {
        try await withPostgres { postgres in
            try await withRedis { redis in
                let secrets = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-test-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: secrets, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: secrets) }
                let jwtFile = secrets.appendingPathComponent("jwt_secret")
                let passwordFile = secrets.appendingPathComponent("db_password")
                try Data("\(testSecret)\n".utf8).write(to: jwtFile)
                try Data("unused\n".utf8).write(to: passwordFile)
                var environment = [
                    "SERVICE_NAME": "gateway",
                    "PORT": "3000",
                    "HOST": "127.0.0.1",
                    "JWT_SECRET_FILE": jwtFile.path,
                    "DATABASE_HOST": postgres.host,
                    "DATABASE_PORT": String(postgres.port),
                    "DATABASE_NAME": "swap",
                    "DATABASE_USER": postgres.user,
                    "DATABASE_PASSWORD_FILE": passwordFile.path,
                    "REDIS_URL": redis.url,
                    "BCRYPT_COST": "4",
                    "RATE_LIMIT_PER_USER_RPS": "1000",
                    "RATE_LIMIT_PER_USER_BURST": "1000",
                    "UPSTREAM_CONNECT_TIMEOUT": "1s",
                    "UPSTREAM_READ_TIMEOUT": "5s",
                ]
                environment.merge(extra) { $1 }
                var configuration = try GatewayConfiguration(environment: environment)
                configuration.common.port = 0
                var logger = Logger(label: "gateway-test")
                logger.logLevel = .warning
                let app = try await buildApplication(configuration: configuration, logger: logger)
                try await app.test(.live) { client in
                    let http = HTTPClient(eventLoopGroupProvider: .singleton)
                    do {
                        try await body(GatewayHarness(port: client.port!, http: http, redis: redis, postgres: postgres))
                        try await http.shutdown()
                    } catch {
                        try? await http.shutdown()
                        throw error
                    }
                }
            }
        }
    }
}

struct Reply: Sendable {
    let status: Int
    let headers: HTTPHeaders
    let body: String

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }

    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    var errorMessage: String? { (json["error"] as? [String: Any])?["message"] as? String }
    var errorRequestID: String? { (json["error"] as? [String: Any])?["request_id"] as? String }
}

/// A fake service: a Hummingbird app on 127.0.0.1 (on `port`, or a free one).
func withUpstream<Value: Sendable>(
    port: Int = 0,
    routes: (Router<BasicRequestContext>) -> Void,
    _ body: @Sendable (Int) async throws -> Value
) async throws -> Value {
    let router = Router()
    routes(router)
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    var logger = Logger(label: "fake-upstream")
    logger.logLevel = .warning
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: port)),
        onServerRunning: { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
            portContinuation.finish()
        },
        logger: logger
    )
    let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let boundPort = await iterator.next() else { throw HarnessError.upstreamDidNotStart }
        do {
            let value = try await body(boundPort)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return value
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

enum HarnessError: Error {
    case upstreamDidNotStart
    case timedOut(String)
}

/// Fails instead of hanging when `operation` does not finish in time.
func within<Value: Sendable>(
    _ limit: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    try await withThrowingTaskGroup(of: Value?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw HarnessError.timedOut(what)
        }
        group.cancelAll()
        return value
    }
}

/// A counter and a switch shared between a test and its fake upstream.
final class UpstreamState: Sendable {
    private let state = Mutex<(hits: Int, healthy: Bool)>((0, true))

    init(healthy: Bool = true) {
        state.withLock { $0.healthy = healthy }
    }

    var hits: Int { state.withLock { $0.hits } }
    var healthy: Bool {
        get { state.withLock { $0.healthy } }
        set { state.withLock { $0.healthy = newValue } }
    }

    func hit() -> Bool {
        state.withLock { state in
            state.hits += 1
            return state.healthy
        }
    }
}
