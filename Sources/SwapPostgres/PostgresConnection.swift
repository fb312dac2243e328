import ConnectionPooling
import Logging
import Synchronization

/// One PostgreSQL session.
///
/// Calls may come from any task; they run one at a time, in order, on the
/// connection's own worker thread. Use a ``PostgresPool`` to share sessions.
public final class PostgresConnection: Sendable {
    private let worker: BlockingWorker
    private let handle: LibPQHandle
    let logger: Logger
    private let broken = Atomic<Bool>(false)

    private init(worker: BlockingWorker, handle: LibPQHandle, logger: Logger) {
        self.worker = worker
        self.handle = handle
        self.logger = logger
    }

    deinit {
        // PQfinish on the worker thread (or the thread stopping it), never on the caller's.
        let handle = self.handle
        self.worker.submit { handle.finish() }
        self.worker.shutdown()
    }

    /// Opens a session.
    ///
    /// - Throws: ``PostgresError`` of kind `connectionFailed`.
    public static func connect(
        configuration: PostgresConfiguration,
        logger: Logger = Logger(label: "swap.postgres")
    ) async throws -> PostgresConnection {
        try Task.checkCancellation()
        let worker = BlockingWorker()
        let parameters = configuration.libpqParameters
        do {
            let handle = try await worker.run { () throws(PostgresError) in
                try LibPQHandle.connect(parameters: parameters, logger: logger)
            }
            return PostgresConnection(worker: worker, handle: handle, logger: logger)
        } catch {
            worker.shutdown()
            throw error
        }
    }

    /// True once the session was lost or closed; a pool then discards it.
    public var isBroken: Bool { self.broken.load(ordering: .relaxed) }

    /// Runs one statement and returns its rows.
    ///
    /// - Throws: ``PostgresError``, or `CancellationError` if the task was
    ///   cancelled before the statement was sent.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try Task.checkCancellation()
        return try await self.run(query)
    }

    /// ``query(_:)`` even in a cancelled task: for clean-up such as ROLLBACK.
    func run(_ query: PostgresQuery) async throws(PostgresError) -> PostgresRows {
        let handle = self.handle
        return try await self.call { () throws(PostgresError) in
            try handle.execute(query.sql, binds: query.binds, types: query.bindTypes)
        }
    }

    /// Runs one statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await self.query(query).affectedRows
    }

    /// Runs SQL text that may contain several statements and no binds, with
    /// the simple-query protocol.
    ///
    /// For SQL that ships with the code (migration files) only: it is sent
    /// as is, so it must never contain input.
    public func executeScript(_ sql: String) async throws {
        try Task.checkCancellation()
        let handle = self.handle
        try await self.call { () throws(PostgresError) in try handle.executeScript(sql) }
    }

    /// Closes the session. Later calls fail with `connectionClosed`.
    public func close() async {
        self.broken.store(true, ordering: .relaxed)
        let handle = self.handle
        _ = await self.worker.run { handle.finish() }
        self.worker.shutdown()
    }

    /// Whether an idle session can be reused (see `LibPQHandle.isReusable`).
    public func isReusable() async -> Bool {
        guard !self.isBroken else { return false }
        let handle = self.handle
        let reusable = (await self.worker.run { handle.isReusable() }) ?? false
        if !reusable { self.broken.store(true, ordering: .relaxed) }
        return reusable
    }

    /// Whether a transaction block is open on the session.
    func isInTransaction() async -> Bool {
        let handle = self.handle
        return (await self.worker.run { handle.isInTransaction() }) ?? false
    }

    func markBroken() {
        self.broken.store(true, ordering: .relaxed)
    }

    private func call<T: Sendable>(
        _ body: @escaping @Sendable () throws(PostgresError) -> T
    ) async throws(PostgresError) -> T {
        do {
            return try await self.worker.run(body)
        } catch {
            if error.breaksConnection { self.markBroken() }
            self.logger.debug(
                "postgres call failed",
                metadata: ["kind": "\(error.kind)", "sqlstate": "\(error.sqlState ?? "-")", "details": "\(error.details)"]
            )
            throw error
        }
    }
}
