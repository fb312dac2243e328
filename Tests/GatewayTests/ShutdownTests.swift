import AsyncHTTPClient
import Foundation
import Gateway
import Hummingbird
import LocalServers
import Logging
import NIOCore
import NIOHTTP1
import ServiceKit
import ServiceLifecycle
import Testing

@Suite(.serialized, .timeLimit(.minutes(10)))
struct ShutdownTests {
    /// SIGTERM's path: the server stops accepting and drains; the HTTP client
    /// and the pools close only afterwards, so a proxied request in flight
    /// still completes.
    @Test func gracefulShutdownDrainsInFlightProxiedRequests() async throws {
        try await withUpstream(routes: { router in
            router.get("/api/v1/slow") { _, _ in
                try await Task.sleep(for: .seconds(1))
                return "done"
            }
        }) { upstreamPort in
            try await withPostgres { postgres in
                try await withRedis { redis in
                    let secrets = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-shutdown-\(UUID().uuidString)")
                    try FileManager.default.createDirectory(at: secrets, withIntermediateDirectories: true)
                    defer { try? FileManager.default.removeItem(at: secrets) }
                    try Data(testSecret.utf8).write(to: secrets.appendingPathComponent("jwt"))
                    try Data("unused".utf8).write(to: secrets.appendingPathComponent("db"))
                    let port = try FreePort.next()
                    let configuration = try GatewayConfiguration(environment: [
                        "PORT": String(port), "HOST": "127.0.0.1",
                        "JWT_SECRET_FILE": secrets.appendingPathComponent("jwt").path,
                        "DATABASE_HOST": postgres.host, "DATABASE_PORT": String(postgres.port), "DATABASE_NAME": "swap",
                        "DATABASE_USER": postgres.user, "DATABASE_PASSWORD_FILE": secrets.appendingPathComponent("db").path,
                        "REDIS_URL": redis.url, "BCRYPT_COST": "4",
                        "UPSTREAM_SLOW_URL": "http://127.0.0.1:\(upstreamPort)", "UPSTREAM_SLOW_PREFIXES": "/api/v1/slow",
                    ])
                    var logger = Logger(label: "gateway-shutdown-test")
                    logger.logLevel = .warning
                    let app = try await buildApplication(configuration: configuration, logger: logger)
                    let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
                    let http = HTTPClient(eventLoopGroupProvider: .singleton)
                    do {
                        try await withThrowingTaskGroup(of: Void.self) { tasks in
                            tasks.addTask { try await group.run() }
                            try await waitUntilListening(http, port: port)
                            let token = AccessToken(secret: testSecret).sign(.init(
                                sub: UUID().uuidString.lowercased(), email: "x@example.com",
                                iat: Int(Date().timeIntervalSince1970), exp: Int(Date().timeIntervalSince1970) + 600
                            ))
                            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/slow")
                            request.headers.add(name: "Authorization", value: "Bearer \(token)")
                            let inFlight = request
                            async let reply = { () async throws -> (UInt, String) in
                                let response = try await http.execute(inFlight, timeout: .seconds(10))
                                return (response.status.code, String(buffer: try await response.body.collect(upTo: 1024)))
                            }()
                            try await Task.sleep(for: .milliseconds(300))
                            await group.triggerGracefulShutdown()
                            let (status, body) = try await reply
                            #expect(status == 200)
                            #expect(body == "done")
                            let stopping = ContinuousClock.now
                            try await tasks.waitForAll()
                            #expect(ContinuousClock.now - stopping < .seconds(15))
                        }
                        try await http.shutdown()
                    } catch {
                        try? await http.shutdown()
                        throw error
                    }
                }
            }
        }
    }

    private func waitUntilListening(_ http: HTTPClient, port: Int) async throws {
        for _ in 0..<100 {
            if let response = try? await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(2)) {
                _ = try? await response.body.collect(upTo: 1 << 16)
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError.timedOut("the gateway did not start listening")
    }
}
