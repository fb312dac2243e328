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
                group.addTask { (check.name, await outcome(of: check, within: timeout)) }
            }
            var results: [String: Bool] = [:]
            for await (name, ok) in group { results[name] = ok }
            return results
        }
    }

    /// The probe's answer, or false at the deadline. The probe runs apart
    /// (unstructured): one blocked in a C call that ignores cancellation (a
    /// libpq connect to a host that drops packets) would otherwise hold the
    /// reply until it returned, as a task group waits for all its children.
    private static func outcome(of check: ReadinessCheck, within timeout: Duration) async -> Bool {
        let answer = OneShot<Bool>()
        let probing = Task { answer.complete(await check.probe()) }
        let deadline = Task {
            try? await Task.sleep(for: timeout)
            answer.complete(false)
        }
        let result = await answer.wait() ?? false
        deadline.cancel()
        probing.cancel()
        return result
    }

    /// A JSON object with sorted keys, for health replies.
    public static func jsonResponse(_ status: HTTPResponse.Status, _ body: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
