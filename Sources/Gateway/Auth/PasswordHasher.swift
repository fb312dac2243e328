import HummingbirdBcrypt
import NIOPosix

/// bcrypt on NIOThreadPool.singleton: a hash costs tens of milliseconds of
/// CPU and must never run on an event loop or a Swift concurrency thread.
struct PasswordHasher: Sendable {
    let cost: UInt8

    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// Checked against when the email is unknown, so that an unknown email
    /// takes as long as a wrong password and timing does not reveal accounts.
    func decoyHash() async throws -> String {
        try await hash("decoy password that never matches")
    }
}
