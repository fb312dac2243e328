/// # ServiceKit
///
/// What every Swap service stands on, so that each service module holds only
/// its domain: typed configuration from environment variables with secrets
/// from `NAME_FILE` files (``EnvironmentReader``), HS256 access tokens
/// (``AccessToken``), the API.md error shape and request ids
/// (``APIError``, ``RequestIDMiddleware``, ``ServiceRequestContext``),
/// `/health`, `/ready` and `/metrics` (``HealthRoutes``), JSON logs
/// (``JSONLogHandler``), Prometheus metrics (``ServiceMetrics``), and a
/// swift-service-lifecycle group that starts everything in dependency order
/// and stops it in reverse on SIGTERM (``ServiceRunner``). Storage helpers
/// (migrations, the transactional outbox, idempotency keys, event consumers)
/// live beside them and use the C-library wrappers only through their
/// Swift modules.
public enum ServiceKit {}
