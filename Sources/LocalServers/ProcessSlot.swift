import Synchronization

/// The process a local server runs now: held from its launch, replaced by a
/// restart, cleared once stopped. One per server object.
final class ProcessSlot: Sendable {
    private let current = Mutex<ChildProcess?>(nil)

    var process: ChildProcess? { current.withLock { $0 } }

    func hold(_ process: ChildProcess) {
        current.withLock { $0 = process }
    }

    /// Terminates the held process (its stop signal, SIGKILL after
    /// `gracePeriod`); nothing when none runs. A process launched meanwhile
    /// by a restart stays held.
    func stop(gracePeriod: Duration) async {
        guard let process else { return }
        await process.terminate(gracePeriod: gracePeriod)
        current.withLock { if $0 === process { $0 = nil } }
    }
}

/// A server this module started; `stop()` ends it and removes its folder.
public protocol LocalServer: Sendable {
    func stop() async
}

/// Runs `body` with `server` and always stops the server afterwards.
func withStopping<Server: LocalServer, Value>(
    _ server: Server,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (Server) async throws -> Value
) async throws -> Value {
    do {
        let value = try await body(server)
        await server.stop()
        return value
    } catch {
        await server.stop()
        throw error
    }
}
