import Foundation
import Hummingbird

/// A dependency a service needs to serve traffic, probed by `/ready`.
public struct ReadinessCheck: Sendable {
    public var name: String
    public var probe: @Sendable () async -> Bool

    public init(_ name: String, probe: @escaping @Sendable () async -> Bool) {
        self.name = name
        self.probe = probe
    }
}

/// `/health` (liveness, no dependency calls), `/ready` (every dependency,
/// probed concurrently with a deadline) and `/metrics` (Prometheus text).
public enum HealthRoutes {
    /// `health` answers `/health` instead of the plain liveness reply (the
    /// gateway's aggregates the services' readiness there).
    public static func add(
        to router: Router<ServiceRequestContext>,
        checks: [ReadinessCheck],
        metrics: ServiceMetrics,
        timeout: Duration = .seconds(2),
        health: (@Sendable () async -> Response)? = nil
    ) {
        router.get("/health") { _, _ in
            if let health { return await health() }
            return jsonResponse(.ok, ["status": "ok"])
        }
        router.get("/ready") { _, _ in
            let results = await probe(checks, timeout: timeout)
            let ready = results.values.allSatisfy { $0 }
            let body: [String: Any] = [
                "status": ready ? "ready" : "not_ready",
                "checks": results.mapValues { $0 ? "ok" : "failing" },
            ]
            return jsonResponse(ready ? .ok : .serviceUnavailable, body)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition()))
            )
        }
    }

    /// Each probe gets the same deadline; a probe that does not answer in time counts as failing.
    public static func probe(_ checks: [ReadinessCheck], timeout: Duration) async -> [String: Bool] {
        await withTaskGroup(of: (String, Bool).self) { group in
            for check in checks {
                group.addTask {
                    let outcome = await withTaskGroup(of: Bool?.self) { race in
                        race.addTask { await check.probe() }
                        race.addTask {
                            try? await Task.sleep(for: timeout)
                            return nil
                        }
                        let first = await race.next() ?? nil
                        race.cancelAll()
                        return first ?? false
                    }
                    return (check.name, outcome)
                }
            }
            var results: [String: Bool] = [:]
            for await (name, ok) in group { results[name] = ok }
            return results
        }
    }

    /// A JSON object with sorted keys, for health replies.
    public static func jsonResponse(_ status: HTTPResponse.Status, _ body: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
