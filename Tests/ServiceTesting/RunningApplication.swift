import HTTPTypes
import Logging
import ServiceLifecycle

/// A service's application running in this test process on
/// 127.0.0.1:`port`, in a service group of its own, as its executable runs
/// it (without signal handlers: the test stops it).
public final class RunningApplication: Sendable {
    /// When the application counts as started.
    public enum Readiness: Sendable {
        /// It accepts connections. No request reaches it, so none is counted,
        /// rate-limited or passed on to upstreams.
        case listening
        /// `GET path` answers 200.
        case answering(String)
    }

    public let port: Int
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    private init(port: Int, group: ServiceGroup, running: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.running = running
    }

    /// Runs `application`, configured for `port`, and returns once it is
    /// ready; if it is not within 60 s, stops it and throws.
    public static func start(
        _ application: any Service, port: Int, readiness: Readiness = .answering("/health"), logger: Logger
    ) async throws -> RunningApplication {
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        let started = RunningApplication(port: port, group: group, running: Task { try await group.run() })
        do {
            try await started.waitUntilReady(readiness)
        } catch {
            // The group's own error (a failed migration, a port in use) says more than the timeout.
            try await started.stop()
            throw error
        }
        return started
    }

    /// Starts a graceful shutdown, as SIGTERM does, without waiting for it.
    public func triggerGracefulShutdown() async {
        await group.triggerGracefulShutdown()
    }

    /// Shuts down gracefully and returns once every service stopped,
    /// throwing what the service group threw.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }

    private func waitUntilReady(_ readiness: Readiness) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            if await isReady(readiness) { return }
            guard ContinuousClock.now < deadline else {
                throw TestFailure("the application on port \(port) was not ready (\(readiness)) within 60 s")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    private func isReady(_ readiness: Readiness) async -> Bool {
        let answered = try? await withServiceClient(port: port) { client in
            switch readiness {
            case .listening:
                try await client.connected()
                return true
            case .answering(let path):
                return try await client.send(.get, path).status == 200
            }
        }
        return answered == true
    }
}

/// Runs `application` (see ``RunningApplication/start(_:port:readiness:logger:)``),
/// then `body`, then stops it gracefully, also when `body` throws.
public func withRunningApplication<Value>(
    _ application: any Service, port: Int, readiness: RunningApplication.Readiness = .answering("/health"), logger: Logger,
    _ body: (RunningApplication) async throws -> Value
) async throws -> Value {
    let running = try await RunningApplication.start(application, port: port, readiness: readiness, logger: logger)
    let value: Value
    do {
        value = try await body(running)
    } catch {
        try? await running.stop()
        throw error
    }
    try await running.stop()
    return value
}
