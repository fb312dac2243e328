import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Hummingbird
import LocalServers
import NIOCore
import ServiceKit
import ServiceTesting
import Testing

@Suite(.serialized, .timeLimit(.minutes(10)))
struct ResilienceTests {
    @Test func failingUpstreamOpensTheBreakerWhichRecoversAfterTheCoolDown() async throws {
        let state = UpstreamState(healthy: false)
        try await withUpstream(routes: { router in
            router.get("/api/v1/wallet") { _, _ in
                state.hit() ? Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "wallet"))) : Response(status: .serviceUnavailable)
            }
        }) { port in
            try await GatewayHarness.run(environment: [
                "UPSTREAM_FINANCIAL_URL": "http://127.0.0.1:\(port)",
                "UPSTREAM_FINANCIAL_PREFIXES": "/api/v1/wallet",
                "BREAKER_FAILURE_THRESHOLD": "2",
                // Long enough that the requests below land inside it on a loaded machine.
                "BREAKER_COOL_DOWN": "4s",
            ]) { gateway in
                let token = gateway.token()
                // The service's own 503s pass through, and count.
                #expect(try await gateway.send(.GET, "/api/v1/wallet", bearer: token).status == 503)
                #expect(try await gateway.send(.GET, "/api/v1/wallet", bearer: token).status == 503)
                #expect(state.hits == 2)
                let rejected = try await gateway.send(.GET, "/api/v1/wallet", bearer: token)
                #expect(rejected.status == 503)
                #expect(rejected.errorCode == "upstream_unavailable")
                #expect(["3", "4"].contains(rejected.header("Retry-After") ?? "-"), "Retry-After: the whole seconds left of the cool-down")
                #expect(state.hits == 2, "an open breaker does not call the service")

                state.healthy = true
                try await Task.sleep(for: .milliseconds(4200))
                let probe = try await gateway.send(.GET, "/api/v1/wallet", bearer: token)
                #expect(probe.status == 200)
                #expect(probe.text == "wallet")
                #expect(try await gateway.send(.GET, "/api/v1/wallet", bearer: token).status == 200)
                #expect(state.hits == 4)
            }
        }
    }

    @Test func unreachableUpstreamIs502ThenOpensAndRecoversWhenItComesBack() async throws {
        let port = try FreePort.next()
        try await GatewayHarness.run(environment: [
            "UPSTREAM_FINANCIAL_URL": "http://127.0.0.1:\(port)",
            "UPSTREAM_FINANCIAL_PREFIXES": "/api/v1/wallet,/api/v1/transfers",
            "BREAKER_FAILURE_THRESHOLD": "2",
            // Long enough that the requests below land inside it on a loaded machine.
            "BREAKER_COOL_DOWN": "4s",
            "UPSTREAM_RETRIES": "2",
        ]) { gateway in
            let token = gateway.token()
            // A GET is retried on the refused connection, but still counts as one failure.
            let get = try await gateway.send(.GET, "/api/v1/wallet", bearer: token)
            #expect(get.status == 502)
            #expect(get.errorCode == "bad_gateway")
            let post = try await gateway.send(.POST, "/api/v1/transfers", json: #"{"amount": 1}"#, bearer: token)
            #expect(post.status == 502)
            let open = try await gateway.send(.GET, "/api/v1/wallet", bearer: token)
            #expect(open.status == 503)
            #expect(open.errorCode == "upstream_unavailable")

            try await withUpstream(port: port, routes: { router in
                router.get("/api/v1/wallet") { _, _ in "back" }
            }) { _ in
                // Still open until the cool-down ends, even though the service is back.
                #expect(try await gateway.send(.GET, "/api/v1/wallet", bearer: token).status == 503)
                try await Task.sleep(for: .milliseconds(4200))
                let recovered = try await gateway.send(.GET, "/api/v1/wallet", bearer: token)
                #expect(recovered.status == 200)
                #expect(recovered.text == "back")
            }
        }
    }

    @Test func slowUpstreamIs504() async throws {
        try await withUpstream(routes: { router in
            router.get("/api/v1/slow") { _, _ in
                try await Task.sleep(for: .seconds(3))
                return "late"
            }
        }) { port in
            try await GatewayHarness.run(environment: [
                "UPSTREAM_SLOW_URL": "http://127.0.0.1:\(port)",
                "UPSTREAM_SLOW_PREFIXES": "/api/v1/slow",
                "UPSTREAM_READ_TIMEOUT": "500ms",
            ]) { gateway in
                let reply = try await gateway.send(.GET, "/api/v1/slow", bearer: gateway.token())
                #expect(reply.status == 504)
                #expect(reply.errorCode == "upstream_timeout")
            }
        }
    }
}

@Suite(.serialized, .timeLimit(.minutes(10)))
struct HealthTests {
    @Test func healthAggregatesTheServicesReadiness() async throws {
        let points = UpstreamState(healthy: false)
        let downPort = try FreePort.next()
        try await withUpstream(routes: { router in
            router.get("/ready") { _, _ in #"{"status":"ready"}"# }
        }) { financial in
            try await withUpstream(routes: { router in
                router.get("/ready") { _, _ in Response(status: points.hit() ? .ok : .serviceUnavailable) }
            }) { pointsPort in
                try await GatewayHarness.run(environment: [
                    "UPSTREAM_FINANCIAL_URL": "http://127.0.0.1:\(financial)",
                    "UPSTREAM_FINANCIAL_PREFIXES": "/api/v1/wallet",
                    "UPSTREAM_POINTS_URL": "http://127.0.0.1:\(pointsPort)",
                    "UPSTREAM_POINTS_PREFIXES": "/api/v1/points",
                    // Ample for a first, cold connection on a loaded machine: this part checks
                    // what is aggregated; the part below checks that it is quick.
                    "HEALTH_PROBE_TIMEOUT": "3s",
                ]) { gateway in
                    let degraded = try await gateway.send(.GET, "/health")
                    #expect(degraded.status == 503)
                    #expect(degraded.json["status"] as? String == "degraded")
                    #expect(degraded.json["services"] as? [String: String] == ["financial": "ready", "points": "not_ready"])

                    points.healthy = true
                    let healthy = try await gateway.send(.GET, "/health")
                    #expect(healthy.status == 200)
                    #expect(healthy.json["status"] as? String == "ok")
                    #expect(healthy.json["services"] as? [String: String] == ["financial": "ready", "points": "ready"])

                    let ready = try await gateway.send(.GET, "/ready")
                    #expect(ready.status == 200)
                    #expect(ready.json["checks"] as? [String: String] == ["postgres": "ok", "redis": "ok"])
                    let metrics = try await gateway.send(.GET, "/metrics")
                    #expect(metrics.status == 200)
                    #expect(metrics.text.contains("http_requests_total"))
                }
            }
        }
        // A service that is down (nothing listening) or hangs is not_ready, quickly.
        try await withUpstream(routes: { router in
            router.get("/ready") { _, _ in
                try await Task.sleep(for: .seconds(3))
                return "too late"
            }
        }) { hanging in
            try await GatewayHarness.run(environment: [
                "UPSTREAM_MAP_URL": "http://127.0.0.1:\(downPort)",
                "UPSTREAM_MESSAGES_URL": "http://127.0.0.1:\(hanging)",
                "HEALTH_PROBE_TIMEOUT": "500ms",
            ]) { gateway in
                let start = ContinuousClock.now
                let reply = try await gateway.send(.GET, "/health")
                #expect(ContinuousClock.now - start < .seconds(2))
                #expect(reply.status == 503)
                #expect(reply.json["services"] as? [String: String] == ["map": "not_ready", "messages": "not_ready"])
            }
        }
    }

    @Test func readyFailsWhenRedisIsDown() async throws {
        try await GatewayHarness.run { gateway in
            await gateway.redis.stop()
            let reply = try await gateway.send(.GET, "/ready")
            #expect(reply.status == 503)
            #expect((reply.json["checks"] as? [String: String])?["redis"] == "failing")
            #expect((reply.json["checks"] as? [String: String])?["postgres"] == "ok")
        }
    }
}
