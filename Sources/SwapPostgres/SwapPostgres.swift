/// # SwapPostgres
///
/// A thin wrapper over libpq for the Swap services: ``PostgresConnection``,
/// a bounded ``PostgresPool``, ``PostgresQuery`` (string interpolation that
/// turns every interpolated value into a `$n` bind) and typed row decoding.
/// Only this module imports `CLibPQ`; no C type appears in its public API.
///
/// ## Where the blocking calls run
///
/// libpq's synchronous API (`PQconnectdbParams`, `PQexecParams`, `PQexec`,
/// `PQconsumeInput`, `PQfinish`) blocks the calling thread. None of these
/// calls ever runs on a NIO event loop or on a Swift concurrency thread:
///
/// - Every connection owns one `BlockingWorker`, a single-thread
///   `NIOThreadPool` started when the connection is opened and shut down when
///   it is closed or deinitialised. Every libpq call for that connection,
///   from connecting to `PQfinish`, is submitted to that thread.
/// - The async caller suspends in `withCheckedContinuation`; the worker thread
///   resumes it with the result once the C call returns. C memory (result
///   values, error messages) is copied into Swift values on the worker thread
///   before it resumes, so nothing C-owned escapes.
/// - One thread per connection (rather than a shared pool of threads) means a
///   statement that blocks on a lock holds only its own thread: it can never
///   starve the `COMMIT` of the transaction it is waiting for.
/// - Task cancellation is checked before a call is submitted; a statement
///   already running is not interrupted (set
///   ``PostgresConfiguration/statementTimeout`` to bound it).
///
/// ## Failures
///
/// Errors are ``PostgresError`` values whose `description` never contains a
/// server or libpq message (those can quote data); the full text is in
/// ``PostgresError/details`` for logs. A connection that loses its server is
/// marked broken; the pool closes it instead of reusing it, and health-checks
/// idle connections before handing them out, so after a server restart at
/// most one call fails and later calls reconnect.
public enum SwapPostgres {}
