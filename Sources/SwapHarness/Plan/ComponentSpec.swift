import Foundation

/// One process the supervisor runs: how to prepare, launch, gate and check it.
struct ComponentSpec: Sendable {
    var name: String
    var kind: ComponentKind
    /// The topology name: the service of a replica, else ``name``.
    var group: String
    var replica: Int?
    var port: Int
    var ports: [String: Int] = [:]
    /// Components that must be ready before this one starts.
    var dependencies: [String]
    var launch: LaunchSpec
    /// What `status` probes.
    var health: HealthProbe
    /// How long from launch to ready before the boot fails.
    var timeout: Duration
    var logFiles: [URL]
    /// Once, before the first launch (initdb, configuration files, certificates).
    var prepare: @Sendable () async throws -> Void = {}
    /// The readiness gate, polled after every launch until healthy.
    var readiness: @Sendable () async -> HealthProbe.Outcome
    /// After every launch, once ready (the role and database, the topics);
    /// the argument is true after a crash restart.
    var afterReady: @Sendable (_ restart: Bool) async throws -> Void = { _ in }

    /// `postgres 'main'`, `service 'realtime.1'`: how messages name it.
    var title: String { "\(kind.rawValue) '\(name)'" }
}
