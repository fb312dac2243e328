import Foundation
import Metrics
import NIOConcurrencyHelpers
import Prometheus
import SwapPostgres
import SwapRedis

/// The Prometheus registry behind swift-metrics, bootstrapped once per
/// process, and the metric names the generated dashboards and alerts query
/// (SwapGenerators' MetricNames): `http_requests_total`,
/// `http_request_duration_seconds`, `swap_events_published_total`,
/// `swap_events_consumed_total`, `swap_consumer_lag`,
/// `swap_outbox_oldest_unsent_seconds`, and each tracked connection pool's
/// `swap_pool_connections` (by `state`: open, idle, max) and `swap_pool_waiting`.
public final class ServiceMetrics: Sendable {
    public let service: String
    private let registry: PrometheusCollectorRegistry

    public static let requestsTotal = "http_requests_total"
    public static let requestDuration = "http_request_duration_seconds"
    public static let eventsPublished = "swap_events_published_total"
    public static let eventsConsumed = "swap_events_consumed_total"
    public static let consumerLag = "swap_consumer_lag"
    public static let outboxOldestUnsent = "swap_outbox_oldest_unsent_seconds"
    public static let poolConnections = "swap_pool_connections"
    public static let poolWaiting = "swap_pool_waiting"

    private static let shared = NIOLockedValueBox<PrometheusCollectorRegistry?>(nil)
    /// Gauges read when `/metrics` is scraped rather than kept up to date.
    private let samplers = NIOLockedValueBox<[@Sendable () -> Void]>([])

    public init(service: String) {
        self.service = service
        registry = Self.shared.withLockedValue { existing in
            if let existing { return existing }
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.durationHistogramBuckets[Self.requestDuration] = [
                .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
            ]
            MetricsSystem.bootstrap(factory)
            existing = registry
            return registry
        }
    }

    public func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let dimensions = [("service", service), ("method", method), ("route", route), ("status", String(status))]
        Counter(label: Self.requestsTotal, dimensions: dimensions).increment()
        Timer(label: Self.requestDuration, dimensions: [("service", service), ("method", method), ("route", route)])
            .record(duration: duration)
    }

    public func eventPublished(topic: String) {
        Counter(label: Self.eventsPublished, dimensions: [("service", service), ("topic", topic)]).increment()
    }

    public func eventConsumed(topic: String, group: String) {
        Counter(label: Self.eventsConsumed, dimensions: [("service", service), ("topic", topic), ("group", group)]).increment()
    }

    public func consumerLag(topic: String, group: String, lag: Int) {
        Gauge(label: Self.consumerLag, dimensions: [("service", service), ("topic", topic), ("group", group)]).record(lag)
    }

    /// How long the oldest event of this service's outbox has waited to reach
    /// Kafka (0 when none waits): it grows while the broker is unreachable.
    public func outboxOldestUnsent(seconds: Double) {
        Gauge(label: Self.outboxOldestUnsent, dimensions: [("service", service)]).record(seconds)
    }

    /// Exports a connection pool's use at every scrape, labelled `pool`:
    /// sessions open, idle and at most allowed, and callers waiting for one.
    /// A pool that stays at its maximum with callers waiting is too small.
    public func trackPool(_ name: String, maxConnections: Int, statistics: @escaping @Sendable () -> (open: Int, idle: Int, waiting: Int)) {
        let service = self.service
        samplers.withLockedValue { samplers in
            samplers.append {
                let now = statistics()
                for (state, value) in [("open", now.open), ("idle", now.idle), ("max", maxConnections)] {
                    Gauge(label: Self.poolConnections, dimensions: [("service", service), ("pool", name), ("state", state)]).record(value)
                }
                Gauge(label: Self.poolWaiting, dimensions: [("service", service), ("pool", name)]).record(now.waiting)
            }
        }
    }

    public func track(_ pool: PostgresPool, name: String = "postgres") {
        trackPool(name, maxConnections: pool.maxConnections) { pool.statistics }
    }

    public func track(_ pool: RedisPool, name: String = "redis") {
        trackPool(name, maxConnections: pool.maxConnections) { pool.statistics }
    }

    /// The Prometheus text exposition of every metric in this process.
    public func exposition() -> String {
        for sample in samplers.withLockedValue({ $0 }) { sample() }
        return registry.emitToString()
    }
}
