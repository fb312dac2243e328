import AsyncHTTPClient
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import LocalServers
import Logging
import NIOCore
import NIOHTTP1
import ServiceKit
import ServiceLifecycle
import ServiceTesting
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
        tokens.sign(user: user, email: email, audience: audience, lifetime: .seconds(ttl))
    }

    /// Sends a request with a buffered body and collects the response
    /// (through AsyncHTTPClient, as the tests that stream use it too).
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
        var fields = HTTPFields()
        for header in response.headers {
            fields.append(HTTPField(name: HTTPField.Name(header.name)!, value: header.value))
        }
        return Reply(status: Int(response.status.code), headers: fields, body: Data(body.readableBytesView))
    }

    /// Starts PostgreSQL, Redis and the gateway (with `environment` added to the
    /// standard test settings), runs `body`, and stops everything, also on failure.
    static func run(
        environment extra: [String: String] = [:],
        _ body: @Sendable (GatewayHarness) async throws -> Void
    ) async throws {
        try await withPostgres { postgres in
            try await withRedis { redis in
                try await withSecretFiles("gateway-test") { secrets in
                    let environment = try ServiceSettings.common("gateway", jwtSecretFile: secrets.write("jwt_secret", "\(testSecret)\n"))
                        .merging(ServiceSettings.database("swap", on: postgres, secrets: secrets)) { $1 }
                        .merging([
                            "REDIS_URL": redis.url,
                            "BCRYPT_COST": "4",
                            "RATE_LIMIT_PER_USER_RPS": "1000",
                            "RATE_LIMIT_PER_USER_BURST": "1000",
                            "UPSTREAM_CONNECT_TIMEOUT": "1s",
                            "UPSTREAM_READ_TIMEOUT": "5s",
                        ]) { $1 }
                        .merging(extra) { $1 }
                    let configuration = try GatewayConfiguration(environment: environment)
                    let logger = Logger.quiet("gateway-test")
                    let app = try await buildApplication(configuration: configuration, logger: logger)
                    // Ready once it listens: a /health probe would call the upstreams, which count their hits.
                    try await withRunningApplication(app, port: configuration.common.port, readiness: .listening, logger: logger) { gateway in
                        let http = HTTPClient(eventLoopGroupProvider: .singleton)
                        do {
                            try await body(GatewayHarness(port: gateway.port, http: http, redis: redis, postgres: postgres))
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
    let logger = Logger.quiet("fake-upstream")
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
