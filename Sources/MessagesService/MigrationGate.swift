import ServiceLifecycle
import Synchronization

/// Opened once the schema is migrated; services that read tables (the outbox
/// relay) wait for it, so a fresh database does not make them fail and back off.
final class MigrationGate: Sendable {
    private struct State {
        var isOpen = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    var isOpen: Bool { state.withLock { $0.isOpen } }

    /// Returns when the gate opens or the task is cancelled.
    func wait() async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.isOpen || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

/// Runs `service` once `gate` opened; ends quietly if shutdown comes first
/// (or the migrations failed and the group is stopping).
struct StartAfterMigrations: Service {
    let gate: MigrationGate
    let service: any Service

    func run() async throws {
        await cancelWhenGracefulShutdown { await gate.wait() }
        guard gate.isOpen, !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
        try await service.run()
    }
}
