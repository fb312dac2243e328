import Foundation
import Metrics
import NIOWebSocket
import ServiceKit
import Synchronization

/// The sockets this replica holds, by user: wake-ups from Redis reach them
/// here, the presence heartbeat lists them, and shutdown closes them all.
final class ConnectionHub: Sendable {
    private struct State {
        var sessions: [UUID: [String: ClientSession]] = [:]
        var count = 0
        var closing = false
        var nextID = 0
    }

    private let state = Mutex(State())
    /// Distinguishes this replica's connection ids from other replicas'.
    private let instance = UUID().lowercaseString.prefix(13)
    private let gauge: Gauge

    init(service: String) {
        gauge = Gauge(label: "swap_realtime_connections", dimensions: [("service", service)])
    }

    func makeConnectionID() -> String {
        let number = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return "\(instance)-\(number)"
    }

    /// Adds a socket; false once the replica is going away (the caller closes it with 1001).
    func register(_ session: ClientSession) -> Bool {
        let count: Int? = state.withLock { state in
            guard !state.closing else { return nil }
            state.sessions[session.user, default: [:]][session.id] = session
            state.count += 1
            return state.count
        }
        if let count { gauge.record(count) }
        return count != nil
    }

    func unregister(_ session: ClientSession) {
        let count: Int = state.withLock { state in
            if state.sessions[session.user]?.removeValue(forKey: session.id) != nil { state.count -= 1 }
            if state.sessions[session.user]?.isEmpty == true { state.sessions[session.user] = nil }
            return state.count
        }
        gauge.record(count)
    }

    var count: Int { state.withLock { $0.count } }

    /// New entries wait in `user`'s stream.
    func wake(_ user: UUID) {
        let sessions = state.withLock { state in state.sessions[user].map { Array($0.values) } ?? [] }
        for session in sessions { session.wake() }
    }

    /// Wake-ups may have been missed (the subscription was re-established): every socket re-reads its stream.
    func wakeAll() {
        for session in allSessions() { session.wake() }
    }

    /// Every live connection, for the presence heartbeat.
    func connections() -> [(user: UUID, connection: String)] {
        allSessions().map { ($0.user, $0.id) }
    }

    /// Refuses new sockets and asks every open one to close with `code`.
    func goAway(code: WebSocketErrorCode, reason: String) {
        let sessions: [ClientSession] = state.withLock { state in
            state.closing = true
            return state.sessions.values.flatMap(\.values)
        }
        for session in sessions { session.requestClose(code: code, reason: reason) }
    }

    /// Waits until every socket has closed, or `timeout`; true when none is left.
    func waitUntilEmpty(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while count > 0 {
            if ContinuousClock.now >= deadline || Task.isCancelled { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    private func allSessions() -> [ClientSession] {
        state.withLock { state in state.sessions.values.flatMap(\.values) }
    }
}
