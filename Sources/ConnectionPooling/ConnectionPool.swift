import Logging
import Synchronization

/// What ``ConnectionPool`` needs from a connection.
public protocol PoolableConnection: AnyObject, Sendable {
    /// Cheap and synchronous: the connection already saw a fatal failure.
    var isBroken: Bool { get }
    /// The health check run before an idle connection is handed out.
    func isReusable() async -> Bool
    func close() async
}

/// A bounded pool: at most `maxConnections` open (idle, leased or being
/// opened); callers beyond that wait in FIFO order up to a timeout. Idle
/// connections are health-checked on checkout and replaced when broken, which
/// is what makes the pool survive a server restart.
///
/// Shared by the libpq and hiredis wrappers.
public final class ConnectionPool<Connection: PoolableConnection>: Sendable {
    public typealias Connect = @Sendable () async throws -> Connection

    private enum Grant: Sendable {
        case connection(Connection)
        /// Room to open a new connection; the slot is already counted.
        case slot
    }

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Grant, any Error>
    }

    private enum ReleaseStep { case handOver(Waiter), keep, close }
    private enum CheckoutStep { case granted(Grant), wait(Int), closed }
    private enum QueueStep { case failed(any Error), granted(Grant), queued }

    private struct State {
        var idle: [Connection] = []
        var open = 0
        var waiters: [Waiter] = []
        var nextWaiterID = 0
        /// Waiters allocated but not yet queued, and failures that reached them early.
        var pending: Set<Int> = []
        var earlyFailures: [Int: any Error] = [:]
        var isClosed = false
    }

    public struct Statistics: Sendable {
        public var open: Int
        public var idle: Int
        public var waiting: Int
    }

    public let maxConnections: Int
    private let checkoutTimeout: Duration
    private let connect: Connect
    private let timeoutError: @Sendable () -> any Error
    private let closedError: @Sendable () -> any Error
    private let logger: Logger
    private let state = Mutex(State())

    public init(
        maxConnections: Int,
        checkoutTimeout: Duration,
        logger: Logger,
        timeoutError: @escaping @Sendable () -> any Error,
        closedError: @escaping @Sendable () -> any Error,
        connect: @escaping Connect
    ) {
        self.maxConnections = max(1, maxConnections)
        self.checkoutTimeout = checkoutTimeout
        self.logger = logger
        self.timeoutError = timeoutError
        self.closedError = closedError
        self.connect = connect
    }

    public var statistics: Statistics {
        self.state.withLock { Statistics(open: $0.open, idle: $0.idle.count, waiting: $0.waiters.count) }
    }

    /// Leases a connection for `body` and takes it back afterwards, even when `body` throws.
    public func withConnection<Value>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Connection) async throws -> Value
    ) async throws -> Value {
        let connection = try await self.acquire()
        defer { self.release(connection) }
        return try await body(connection)
    }

    public func acquire() async throws -> Connection {
        try Task.checkCancellation()
        var grant = try await self.grant()
        while true {
            switch grant {
            case .connection(let connection):
                if await connection.isReusable() { return connection }
                self.logger.info("replacing a broken pooled connection")
                await connection.close()
                grant = .slot
            case .slot:
                do {
                    return try await self.connect()
                } catch {
                    self.releaseSlot()
                    throw error
                }
            }
        }
    }

    public func release(_ connection: Connection) {
        if connection.isBroken {
            Task { await connection.close() }
            self.releaseSlot()
            return
        }
        let next: ReleaseStep = self.state.withLock { state in
            if state.isClosed {
                state.open -= 1
                return .close
            }
            if !state.waiters.isEmpty { return .handOver(state.waiters.removeFirst()) }
            state.idle.append(connection)
            return .keep
        }
        switch next {
        case .handOver(let waiter): waiter.continuation.resume(returning: .connection(connection))
        case .close: Task { await connection.close() }
        case .keep: break
        }
    }

    /// Closes idle connections and fails waiters; leased ones close when returned.
    public func close() async {
        let (idle, waiters) = self.state.withLock { state in
            state.isClosed = true
            let idle = state.idle
            let waiters = state.waiters
            state.idle = []
            state.waiters = []
            state.open -= idle.count
            return (idle, waiters)
        }
        for waiter in waiters {
            waiter.continuation.resume(throwing: self.closedError())
        }
        for connection in idle {
            await connection.close()
        }
    }

    /// Gives up a counted slot: to the first waiter if any, else to the pool.
    private func releaseSlot() {
        let waiter: Waiter? = self.state.withLock { state in
            if !state.isClosed, !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.open -= 1
            return nil
        }
        waiter?.continuation.resume(returning: .slot)
    }

    private func takeImmediately(_ state: inout State) -> Grant? {
        if let connection = state.idle.popLast() { return .connection(connection) }
        if state.open < self.maxConnections {
            state.open += 1
            return .slot
        }
        return nil
    }

    private func grant() async throws -> Grant {
        let first: CheckoutStep = self.state.withLock { state in
            if state.isClosed { return .closed }
            if let grant = self.takeImmediately(&state) { return .granted(grant) }
            state.nextWaiterID += 1
            state.pending.insert(state.nextWaiterID)
            return .wait(state.nextWaiterID)
        }
        let id: Int
        switch first {
        case .closed: throw self.closedError()
        case .granted(let grant): return grant
        case .wait(let waiterID): id = waiterID
        }

        let timeout = self.checkoutTimeout
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            guard let self else { return }
            self.fail(waiter: id, with: self.timeoutError())
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, any Error>) in
                let outcome: QueueStep = self.state.withLock { state in
                    state.pending.remove(id)
                    if let error = state.earlyFailures.removeValue(forKey: id) { return .failed(error) }
                    if state.isClosed { return .failed(self.closedError()) }
                    // Something may have been released while this waiter was being set up.
                    if let grant = self.takeImmediately(&state) { return .granted(grant) }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return .queued
                }
                switch outcome {
                case .failed(let error): continuation.resume(throwing: error)
                case .granted(let grant): continuation.resume(returning: grant)
                case .queued: break
                }
            }
        } onCancel: {
            self.fail(waiter: id, with: CancellationError())
        }
    }

    /// Times out or cancels one waiter, whether or not it is queued yet.
    private func fail(waiter id: Int, with error: any Error) {
        let waiter: Waiter? = self.state.withLock { state in
            if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                return state.waiters.remove(at: index)
            }
            if state.pending.contains(id) { state.earlyFailures[id] = error }
            return nil
        }
        waiter?.continuation.resume(throwing: error)
    }
}
