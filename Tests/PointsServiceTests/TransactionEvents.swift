import Foundation
import ServiceKit

/// The `data` of a `transaction.completed` event, as the financial service publishes it.
struct TransactionData: Codable, Sendable {
    var id = UUID()
    var kind = "transfer"
    var fromUserId: UUID?
    var toUserId: UUID
    var amount: Int
    var status = "completed"
    var note: String?
    var createdAt = Date()
}

/// A `transaction.completed` event on `financial.transactions`, keyed by its initiator.
func transactionEvent(
    kind: String = "transfer", from: UUID?, to: UUID, amount: Int, status: String = "completed", type: String = "transaction.completed"
) throws -> EventEnvelope {
    let data = TransactionData(kind: kind, fromUserId: from, toUserId: to, amount: amount, status: status)
    return try EventEnvelope(topic: "financial.transactions", key: (from ?? to).uuidString.lowercased(), type: type, data: data)
}
