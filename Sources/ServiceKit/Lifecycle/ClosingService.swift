import ServiceLifecycle

/// Keeps a resource open while the service group runs and closes it on
/// graceful shutdown: listed before the services that use it, it is stopped
/// after them (ServiceGroup stops in reverse order).
public struct ClosingService: Service {
    let name: String
    let close: @Sendable () async -> Void

    public init(_ name: String, close: @escaping @Sendable () async -> Void) {
        self.name = name
        self.close = close
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }
}
