/// The Prometheus metrics every Swap service exports on `/metrics`: the one
/// contract between the service kit, the alert rules and the dashboards.
/// Change a name here and the kit, `alerts.yml` and the dashboards follow.
public enum MetricNames {
    /// Counter of answered HTTP requests; labels `service`, `method`, `route`
    /// (the registered path template, never the raw path), `status` (e.g. `503`).
    public static let httpRequests = "http_requests_total"
    /// Histogram of request durations in seconds, same labels as `httpRequests`
    /// minus `status`; buckets `durationBuckets`.
    public static let httpRequestDuration = "http_request_duration_seconds"
    /// Counter of events written to Kafka; label `topic`.
    public static let eventsPublished = "swap_events_published_total"
    /// Counter of events handled from Kafka; labels `topic`, `group`.
    public static let eventsConsumed = "swap_events_consumed_total"
    /// Gauge: messages behind the partition end, summed over the partitions
    /// assigned to this process; labels `topic`, `group`. Alerts sum it over replicas.
    public static let consumerLag = "swap_consumer_lag"
    /// Gauge: seconds the oldest event of a service's transactional outbox
    /// has waited to reach Kafka (0 when none waits); label `service`.
    public static let outboxOldestUnsent = "swap_outbox_oldest_unsent_seconds"
    /// Gauge of a connection pool's sessions; labels `service`, `pool`
    /// (`postgres`, `redis`), `state` (`open`, `idle`, `max`).
    public static let poolConnections = "swap_pool_connections"
    /// Gauge of callers waiting for a pooled session; labels `service`, `pool`.
    public static let poolWaiting = "swap_pool_waiting"

    /// Label names used above.
    public enum Label {
        public static let service = "service"
        public static let method = "method"
        public static let route = "route"
        public static let status = "status"
        public static let topic = "topic"
        public static let group = "group"
    }

    /// Histogram buckets in seconds. The p99 alert threshold should be one of
    /// them, or `histogram_quantile` interpolates across a wide bucket.
    public static let durationBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// The `_bucket` series of the duration histogram.
    static var httpRequestDurationBucket: String { httpRequestDuration + "_bucket" }
}
