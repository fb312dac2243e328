import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import ServiceKit

/// The gateway's `/health` (what nginx and the harness probe) aggregates the
/// services' readiness: every upstream's `/ready`, concurrently, each bounded
/// by `probeTimeout`, so it answers quickly even when services hang or are
/// down. (`/ready` and `/metrics` are the standard ones, ``HealthRoutes``.)
struct AggregatedHealth: Sendable {
    let upstreams: [Upstream]
    let client: HTTPClient
    let probeTimeout: Duration

    func response() async -> Response {
        let client = self.client
        let timeout = probeTimeout
        let probes = upstreams.map { upstream in
            ReadinessCheck(upstream.name) { await Self.isReady(upstream, client: client, timeout: timeout) }
        }
        let results = await HealthRoutes.probe(probes, timeout: timeout + .milliseconds(100))
        let healthy = results.values.allSatisfy { $0 }
        return HealthRoutes.jsonResponse(healthy ? .ok : .serviceUnavailable, [
            "status": healthy ? "ok" : "degraded",
            "services": results.mapValues { $0 ? "ready" : "not_ready" },
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
}
