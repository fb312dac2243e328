import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import ServiceKit

/// The gateway's `/health` (what nginx and the harness probe) aggregates the
/// services' readiness; `/ready` covers the gateway's own dependencies;
/// `/metrics` is the Prometheus text of this process.
struct HealthController: Sendable {
    let upstreams: [Upstream]
    let client: HTTPClient
    let probeTimeout: Duration
    let checks: [ReadinessCheck]
    let metrics: ServiceMetrics

    func add(to router: Router<ServiceRequestContext>) {
        router.get("/health") { _, _ in await health() }
        router.get("/ready") { _, _ in await ready() }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition()))
            )
        }
    }

    /// Every upstream's `/ready`, concurrently, each bounded by `probeTimeout`,
    /// so this answers quickly even when services hang or are down.
    func health() async -> Response {
        let client = self.client
        let timeout = probeTimeout
        let probes = upstreams.map { upstream in
            ReadinessCheck(upstream.name) { await Self.isReady(upstream, client: client, timeout: timeout) }
        }
        let results = await HealthRoutes.probe(probes, timeout: timeout + .milliseconds(100))
        let healthy = results.values.allSatisfy { $0 }
        return Self.json(healthy ? .ok : .serviceUnavailable, [
            "status": healthy ? "ok" : "degraded",
            "services": results.mapValues { $0 ? "ready" : "not_ready" },
        ])
    }

    func ready() async -> Response {
        let results = await HealthRoutes.probe(checks, timeout: .seconds(2))
        let ready = results.values.allSatisfy { $0 }
        return Self.json(ready ? .ok : .serviceUnavailable, [
            "status": ready ? "ready" : "not_ready",
            "checks": results.mapValues { $0 ? "ok" : "failing" },
        ])
    }

    static func isReady(_ upstream: Upstream, client: HTTPClient, timeout: Duration) async -> Bool {
        var request = HTTPClientRequest(url: upstream.baseURL + "/ready")
        request.method = .GET
        do {
            let response = try await client.execute(request, timeout: .init(timeout))
            // Read the small body so the connection goes back to the pool.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return response.status == .ok
        } catch {
            return false
        }
    }

    static func json(_ status: HTTPResponse.Status, _ body: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
