import Foundation
import Logging
import SwapPostgres
import Synchronization

/// A relay's sign of life for the other relays: a session-level advisory
/// lock keyed by its claim token, held on a PostgreSQL session of its own
/// for as long as the relay runs. When the process dies, PostgreSQL ends
/// the session and releases the lock, so the rows the relay had claimed are
/// taken over at once (``OutboxStore/takeOver(token:claimTimeout:limit:)``)
/// instead of after `claimTimeout`, which still covers a relay that is alive
/// but stuck.
///
/// If the session is lost while the relay lives (a database restart), the
/// lock is taken again on the relay's next cycle. In between, another relay
/// may take over its claims; reconciliation finds what it had already
/// published, so only a message still in flight at that moment could go out
/// twice (consumers deduplicate by `event_id`).
final class RelayLiveness: Sendable {
    /// The first key of the lock (`pg_locks.classid`): "SWOX" in ASCII.
    static let namespace: Int32 = 0x5357_4F58

    private let configuration: PostgresConfiguration
    private let token: UUID
    private let logger: Logger
    private let session = Mutex<PostgresConnection?>(nil)

    init(configuration: PostgresConfiguration, token: UUID, logger: Logger) {
        self.configuration = configuration
        self.token = token
        self.logger = logger
    }

    /// Takes the lock unless this relay's session still holds it. Cheap when
    /// it does: the check makes no round trip.
    func hold() async throws {
        if let current = session.withLock({ $0 }) {
            if await current.isReusable() { return }
            session.withLock { if $0 === current { $0 = nil } }
            await current.close()
            logger.warning("outbox relay lost its liveness session; taking the lock again")
        }
        let fresh = try await PostgresConnection.connect(configuration: configuration, logger: logger)
        do {
            let rows = try await fresh.query("SELECT pg_try_advisory_lock(\(Self.namespace), hashtext(\(token)::text))")
            // Another live relay's token hashing to the same key: practically never, and then only the fast takeover of one is lost.
            if try !rows[0].decode(Bool.self, column: 0) {
                logger.warning("outbox relay liveness lock is taken by another session", metadata: ["claim_token": "\(token)"])
            }
        } catch {
            await fresh.close()
            throw error
        }
        session.withLock { $0 = fresh }
    }

    /// Ends the session, which releases the lock.
    func release() async {
        let current = session.withLock { current in
            defer { current = nil }
            return current
        }
        await current?.close()
    }
}
