import Hummingbird
import Logging
import ServiceLifecycle

/// The standard router of a Swap service: request ids and JSON errors
/// outermost, then metrics, then `/health`, `/ready`, `/metrics`; the
/// service adds its own routes (usually behind ``AuthMiddleware``).
public enum ServiceRouter {
    /// `health`, when given, answers `/health` (see ``HealthRoutes``).
    public static func make(
        metrics: ServiceMetrics, checks: [ReadinessCheck], health: (@Sendable () async -> Response)? = nil
    ) -> Router<ServiceRequestContext> {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        HealthRoutes.add(to: router, checks: checks, metrics: metrics, health: health)
        return router
    }
}

/// Builds the Hummingbird application of a service. `services` are started
/// with the HTTP server and stopped after it, in reverse order, so list
/// pools first and their users (relays, consumers) after them.
public enum ServiceApplication {
    public static func make(
        router: Router<ServiceRequestContext>,
        configuration: CommonConfiguration,
        services: [any Service],
        logger: Logger
    ) -> Application<RouterResponder<ServiceRequestContext>> {
        Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: configuration.serviceName),
            services: services,
            logger: logger
        )
    }
}
