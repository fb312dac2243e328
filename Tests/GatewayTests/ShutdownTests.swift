import AsyncHTTPClient
import Foundation
import Gateway
import Hummingbird
import LocalServers
import Logging
import NIOCore
import NIOHTTP1
import ServiceKit
import ServiceTesting
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
                    try await withSecretFiles("gateway-shutdown") { secrets in
                        let configuration = try GatewayConfiguration(environment: ServiceSettings.common("gateway", jwtSecretFile: secrets.write("jwt", testSecret))
                            .merging(ServiceSettings.database("swap", on: postgres, secrets: secrets)) { $1 }
                            .merging([
                                "REDIS_URL": redis.url, "BCRYPT_COST": "4",
                                "UPSTREAM_SLOW_URL": "http://127.0.0.1:\(upstreamPort)", "UPSTREAM_SLOW_PREFIXES": "/api/v1/slow",
                            ]) { $1 })
                        let port = configuration.common.port
                        let logger = Logger.quiet("gateway-shutdown-test")
                        let app = try await buildApplication(configuration: configuration, logger: logger)
                        let gateway = try await RunningApplication.start(app, port: port, readiness: .listening, logger: logger)
                        let http = HTTPClient(eventLoopGroupProvider: .singleton)
                        do {
                            let token = AccessToken(secret: testSecret).sign(user: UUID(), email: "x@example.com")
                            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/slow")
                            request.headers.add(name: "Authorization", value: "Bearer \(token)")
                            let inFlight = request
                            async let reply = { () async throws -> (UInt, String) in
                                let response = try await http.execute(inFlight, timeout: .seconds(10))
                                return (response.status.code, String(buffer: try await response.body.collect(upTo: 1024)))
                            }()
                            try await Task.sleep(for: .milliseconds(300))
                            await gateway.triggerGracefulShutdown()
                            let (status, body) = try await reply
                            #expect(status == 200)
                            #expect(body == "done")
                            let stopping = ContinuousClock.now
                            try await gateway.stop()
                            #expect(ContinuousClock.now - stopping < .seconds(15))
                            try await http.shutdown()
                        } catch {
                            try? await gateway.stop()
                            try? await http.shutdown()
                            throw error
                        }
                    }
                }
            }
        }
    }
}
