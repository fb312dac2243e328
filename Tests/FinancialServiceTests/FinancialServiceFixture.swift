import FinancialService
import Foundation
import Logging
import ServiceKit
import ServiceTesting
import SwapPostgres

let quietLogger = Logger.quiet("financial-test", level: .error)

/// Starts the financial service against a fresh database and broker (with
/// `financial.transactions` on six partitions), runs `body`, then shuts
/// the service down and drops everything, also when `body` throws.
func withFinancialService(
    settings: [String: String] = [:],
    prepare: (PostgresPool) async throws -> Void = { _ in },
    _ body: (ServiceUnderTest) async throws -> Void
) async throws {
    try await withServiceUnderTest(
        "financial",
        settings: ["DATABASE_POOL_SIZE": "12"].merging(settings) { $1 },
        topics: ["financial.transactions": 6],
        prepare: prepare,
        build: { environment in
            try await buildApplication(configuration: FinancialConfiguration(environment: environment), logger: quietLogger)
        },
        body
    )
}

extension ServiceUnderTest {
    /// Inserts a user as the gateway's sign-up does; the trigger creates the wallet.
    func createUser(_ email: String = "user-\(UUID().uuidString.prefix(8).lowercased())@example.com") async throws -> UUID {
        try await insertUser(email, on: pool)
    }
}
