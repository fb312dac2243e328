import NIOPosix

/// The one thread that may touch a connection's C handle.
///
/// A single-thread `NIOThreadPool` per connection: calls for one connection
/// run one at a time in submission order (libpq connections are not
/// thread-safe), and a call that blocks for long holds only its own thread.
final class BlockingWorker: Sendable {
    private let thread: NIOThreadPool

    init() {
        self.thread = NIOThreadPool(numberOfThreads: 1)
        self.thread.start()
    }

    /// Runs `body` on the worker thread and resumes the caller with its result.
    func run<T: Sendable>(
        _ body: @escaping @Sendable () throws(PostgresError) -> T
    ) async throws(PostgresError) -> T {
        let result: Result<T, PostgresError> = await withCheckedContinuation { continuation in
            self.thread.submit { state in
                switch state {
                case .active:
                    continuation.resume(returning: Result(catching: body))
                case .cancelled:
                    continuation.resume(returning: .failure(PostgresError(kind: .connectionClosed)))
                }
            }
        }
        return try result.get()
    }

    /// Runs `body` on the worker thread without waiting; if the worker is
    /// already stopping, `body` runs on the thread that stops it.
    func submit(_ body: @escaping @Sendable () -> Void) {
        self.thread.submit { _ in body() }
    }

    /// Stops the thread once queued work has run; never blocks.
    func shutdown() {
        self.thread.shutdownGracefully { _ in }
    }

    deinit {
        self.shutdown()
    }
}
