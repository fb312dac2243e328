import ConnectionPooling
import Logging
import Synchronization

/// One Redis connection.
///
/// Calls may come from any task; they run one at a time, in order, on the
/// connection's own worker thread. Use a ``RedisPool`` to share connections.
public final class RedisConnection: RedisClient {
    private let worker: BlockingWorker
    let handle: HiredisHandle
    private let commandTimeout: Duration?
    let logger: Logger
    private let broken = Atomic<Bool>(false)

    private init(worker: BlockingWorker, handle: HiredisHandle, commandTimeout: Duration?, logger: Logger) {
        self.worker = worker
        self.handle = handle
        self.commandTimeout = commandTimeout
        self.logger = logger
    }

    deinit {
        // redisFree on the worker thread (or the thread stopping it), never on the caller's.
        let handle = self.handle
        self.worker.submit { handle.finish() }
        self.worker.shutdown()
    }

    /// Connects, then authenticates and selects the database when configured.
    ///
    /// - Throws: ``RedisError`` of kind `connectionFailed`.
    public static func connect(
        configuration: RedisConfiguration,
        logger: Logger = Logger(label: "swap.redis")
    ) async throws -> RedisConnection {
        try Task.checkCancellation()
        let worker = BlockingWorker()
        do {
            let handle = try await worker.run { () throws(RedisError) in
                let handle = try HiredisHandle.connect(
                    host: configuration.host, port: configuration.port, timeout: configuration.connectTimeout
                )
                try handle.setTimeout(configuration.commandTimeout)
                try Self.prepare(handle, configuration)
                return handle
            }
            return RedisConnection(worker: worker, handle: handle, commandTimeout: configuration.commandTimeout, logger: logger)
        } catch {
            worker.shutdown()
            throw error
        }
    }

    /// AUTH and SELECT; a rejection here is a connection failure.
    private static func prepare(_ handle: HiredisHandle, _ configuration: RedisConfiguration) throws(RedisError) {
        var commands: [[String]] = []
        if let password = configuration.password {
            commands.append(["AUTH"] + (configuration.username.map { [$0] } ?? []) + [password])
        }
        if configuration.database != 0 {
            commands.append(["SELECT", String(configuration.database)])
        }
        for command in commands {
            if case .error(let message) = try handle.command(command.map { Array($0.utf8) }) {
                handle.finish()
                throw RedisError(kind: .connectionFailed, code: RedisError(serverReply: message).code, details: message)
            }
        }
    }

    /// True once the connection failed or was closed; a pool then discards it.
    public var isBroken: Bool { self.broken.load(ordering: .relaxed) }

    public func send(bytes arguments: [[UInt8]], blockingUpTo blockTime: Duration?) async throws -> RedisValue {
        try Task.checkCancellation()
        let handle = self.handle
        let timeout = self.commandTimeout
        let work = { @Sendable () throws(RedisError) -> RedisValue in
            guard let blockTime else { return try handle.command(arguments) }
            // Blocking commands may legitimately stay silent for blockTime (0: forever).
            try handle.setTimeout(blockTime == .zero ? nil : timeout.map { $0 + blockTime })
            let reply = try handle.command(arguments)
            try handle.setTimeout(timeout)
            return reply
        }
        let reply: RedisValue
        if blockTime == nil {
            reply = try await self.call(work)
        } else {
            // Cancelling a task parked in XREAD BLOCK must not wait out the block.
            reply = try await withTaskCancellationHandler {
                try await self.call(work)
            } onCancel: {
                handle.interrupt()
            }
        }
        if case .error(let message) = reply { throw RedisError(serverReply: message) }
        return reply
    }

    public func pipeline(bytes commands: [[[UInt8]]]) async throws -> [RedisValue] {
        try Task.checkCancellation()
        guard !commands.isEmpty else { return [] }
        let handle = self.handle
        return try await self.call { () throws(RedisError) in
            for command in commands { try handle.append(command) }
            var replies: [RedisValue] = []
            replies.reserveCapacity(commands.count)
            for _ in commands { replies.append(try handle.readReply()) }
            return replies
        }
    }

    /// Closes the connection. Later calls fail with `connectionClosed`.
    public func close() async {
        self.broken.store(true, ordering: .relaxed)
        let handle = self.handle
        _ = await self.worker.run { handle.finish() }
        self.worker.shutdown()
    }

    public func isReusable() async -> Bool {
        guard !self.isBroken else { return false }
        let handle = self.handle
        let reusable = (await self.worker.run { handle.isReusable() }) ?? false
        if !reusable { self.broken.store(true, ordering: .relaxed) }
        return reusable
    }

    /// Runs `body` on the worker thread, without marking or logging; for the
    /// subscription loop, which owns this connection outright.
    func runOnWorker<T: Sendable>(_ body: @escaping @Sendable () throws(RedisError) -> T) async throws(RedisError) -> T {
        try await self.worker.run(body)
    }

    private func call<T: Sendable>(_ body: @escaping @Sendable () throws(RedisError) -> T) async throws(RedisError) -> T {
        do {
            return try await self.worker.run(body)
        } catch {
            if error.breaksConnection { self.broken.store(true, ordering: .relaxed) }
            self.logger.debug("redis call failed", metadata: ["kind": "\(error.kind)", "details": "\(error.details)"])
            throw error
        }
    }
}
