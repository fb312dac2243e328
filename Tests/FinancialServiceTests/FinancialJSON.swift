import Foundation

/// API.md's transaction, as a client decodes it.
struct TransactionJSON: Decodable, Equatable, Sendable {
    var id: UUID
    var kind: String
    var fromUserId: UUID?
    var toUserId: UUID
    var amount: Int
    var status: String
    var note: String?
    var createdAt: Date
}

struct TransactionReply: Decodable, Sendable {
    var transaction: TransactionJSON
}

struct WalletJSON: Decodable, Sendable {
    var userId: UUID
    var balance: Int
    var currency: String
    var updatedAt: Date
}

struct TransactionPage: Decodable, Sendable {
    var items: [TransactionJSON]
    var nextCursor: String?
}
