/// # ServiceKit
///
/// What every Swap service stands on, so that each service module holds only
/// its domain:
/// - start-up: ``ServiceMain`` reads the configuration (``EnvironmentReader``:
///   environment variables, secrets from `NAME_FILE` files, every problem at
///   once; ``CommonConfiguration`` and the dependency settings), switches to
///   JSON logs (``JSONLogHandler``) and runs the application in one
///   swift-service-lifecycle group until SIGTERM, stopping in reverse order;
/// - HTTP: ``ServiceRouter`` and ``ServiceApplication`` (request ids and the
///   API.md error shape: ``RequestIDMiddleware``, ``APIError``,
///   ``ServiceRequestContext``), HS256 access tokens (``AccessToken``,
///   ``AuthMiddleware``), `/health`, `/ready` and `/metrics`
///   (``HealthRoutes``, ``ServiceMetrics``), pagination;
/// - storage and events: migrations (``Migrator``), the transactional outbox
///   (``PostgresWithOutbox``, ``OutboxRelay``), idempotency keys
///   (``IdempotencyStore``), event consumers (``KafkaEventConsumer``,
///   ``ProcessedEvents``). They use the C-library wrappers only through their
///   Swift modules.
public enum ServiceKit {}
