import NIOPosix

/// An error a connection reports once it is closed: what a call gets when
/// its connection's worker has already stopped.
public protocol ConnectionClosedError: Error, Sendable {
    static var connectionClosed: Self { get }
}

/// The one thread that may touch a connection's C handle.
///
/// A single-thread `NIOThreadPool` per connection: calls for one connection
/// run one at a time in submission order (libpq connections and hiredis
/// contexts are not thread-safe), and a call that blocks for long holds
/// only its own thread, never an event loop or the cooperative pool.
public final class BlockingWorker: Sendable {
    private let thread: NIOThreadPool

    public init() {
        self.thread = NIOThreadPool(numberOfThreads: 1)
        self.thread.start()
    }

    /// Runs `body` on the worker thread and resumes the caller with its
    /// result; fails with `Failure.connectionClosed` once the worker stopped.
    public func run<T: Sendable, Failure: ConnectionClosedError>(
        _ body: @escaping @Sendable () throws(Failure) -> T
    ) async throws(Failure) -> T {
        let result: Result<T, Failure> = await withCheckedContinuation { continuation in
            self.thread.submit { state in
                switch state {
                case .active:
                    continuation.resume(returning: Result(catching: body))
                case .cancelled:
                    continuation.resume(returning: .failure(Failure.connectionClosed))
                }
            }
        }
        return try result.get()
    }

    /// Runs a `body` that cannot fail on the worker thread; nil once the worker stopped.
    public func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T? {
        await withCheckedContinuation { continuation in
            self.thread.submit { state in
                switch state {
                case .active: continuation.resume(returning: body())
                case .cancelled: continuation.resume(returning: nil)
                }
            }
        }
    }

    /// Runs `body` on the worker thread without waiting; if the worker is
    /// already stopping, `body` runs on the thread that stops it.
    public func submit(_ body: @escaping @Sendable () -> Void) {
        self.thread.submit { _ in body() }
    }

    /// Stops the thread once queued work has run; never blocks.
    public func shutdown() {
        self.thread.shutdownGracefully { _ in }
    }

    deinit {
        self.shutdown()
    }
}
