/// # LocalServers
///
/// Real PostgreSQL, Redis, Kafka-compatible (Tansu) and nginx servers as
/// child processes on free loopback ports, each with its state in a fresh
/// temporary folder, for integration tests and the `swapctl up` harness.
///
/// Leaking a process is made hard three ways:
/// - scoped helpers (``withPostgres(_:logger:_:)``, ``withRedis(_:logger:_:)``,
///   ``withKafkaBroker(_:logger:_:)``, ``withNginx(configuration:readinessPorts:logger:_:)``)
///   stop the server when the closure returns or throws;
/// - a ``ChildProcess`` that is deinitialised while running is killed;
/// - every live child and state folder is registered, and an `atexit`
///   handler stops them and removes the folders when the process exits
///   normally (a crash can still leak; the folders live under the system
///   temporary directory).
///
/// Waiting (for exit, for readiness, for a helper command) never blocks a
/// Swift concurrency thread: exits arrive through `Process`'s termination
/// handler, and probes and helper commands run on Dispatch's global queue.
public enum LocalServers {}
