/// # ServiceTesting
///
/// What the service test targets share: the real PostgreSQL, Redis and
/// broker started once per test process (``SharedServers``), a database of
/// a test's own on it (``withTestDatabase(prefix:maxConnections:_:)``),
/// secret files, signed access tokens, a service's application run on a
/// free port (``RunningApplication``, ``withServiceUnderTest(_:settings:topics:prepare:build:_:)``),
/// an HTTP client for it (``ServiceClient``, ``Reply``), and small polling,
/// Kafka and Prometheus helpers.
///
/// Test code only: no product depends on this target.
public enum ServiceTesting {}
