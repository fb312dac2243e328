import Foundation
import LocalServers
import SwapPostgres

/// One PostgreSQL server for the whole test process (LocalServers stops it
/// at exit); every test gets its own database on it.
actor SharedPostgresServer {
    static let shared = SharedPostgresServer()
    // A task, not the server: suites run in parallel and an actor is
    // re-entered at the await, so a second caller must wait for the start
    // already under way instead of starting a server of its own. (The
    // service tests' ServiceTesting has the same; this target does not
    // depend on it, as it would bring in ServiceKit.)
    private var starting: Task<PostgresServer, any Error>?

    func server() async throws -> PostgresServer {
        let starting = self.starting ?? Task {
            var options = PostgresServer.Options()
            options.database = nil
            return try await PostgresServer.start(options)
        }
        self.starting = starting
        return try await starting.value
    }
}

/// Runs `body` with a pool on a fresh database, dropped afterwards.
func withTestDatabase<Value>(
    maxConnections: Int = 4,
    checkoutTimeout: Duration = .seconds(10),
    _ body: (PostgresPool, PostgresServer) async throws -> Value
) async throws -> Value {
    let server = try await SharedPostgresServer.shared.server()
    let name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    try await server.createDatabase(name)
    let pool = PostgresPool(
        configuration: PostgresConfiguration(connectionString: server.url(database: name)),
        maxConnections: maxConnections,
        checkoutTimeout: checkoutTimeout
    )
    do {
        let value = try await body(pool, server)
        await pool.close()
        try await server.dropDatabase(name)
        return value
    } catch {
        await pool.close()
        try? await server.dropDatabase(name)
        throw error
    }
}

/// Lets `count` tasks wait for each other.
actor Rendezvous {
    private let count: Int
    private var arrived = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(count: Int) {
        self.count = count
    }

    func arrive() async {
        self.arrived += 1
        if self.arrived >= self.count {
            for continuation in self.waiting { continuation.resume() }
            self.waiting = []
            return
        }
        await withCheckedContinuation { self.waiting.append($0) }
    }
}

/// A gate a test opens once.
actor Gate {
    private var isOpen = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if self.isOpen { return }
        await withCheckedContinuation { self.waiting.append($0) }
    }

    func open() {
        self.isOpen = true
        for continuation in self.waiting { continuation.resume() }
        self.waiting = []
    }
}

/// Polls `condition` for up to `timeout`.
func eventually(timeout: Duration = .seconds(5), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}
