import Foundation
import Hummingbird
import ServiceKit

/// `GET /api/v1/wallet`.
struct Wallet: ResponseEncodable, Sendable, Equatable {
    var userId: UUID
    var balance: Int64
    var currency: String
    var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case userId, balance, currency, updatedAt
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lowercase: userId, forKey: .userId)
        try container.encode(balance, forKey: .balance)
        try container.encode(currency, forKey: .currency)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}

/// API.md's `transaction`, also the `data` of `transaction.completed` events.
/// `from_user_id` and `note` are always present (`null` when absent).
struct LedgerTransaction: Codable, Sendable, Equatable {
    enum Kind: String, Codable, Sendable {
        case deposit, transfer
    }

    enum Status: String, Codable, Sendable {
        case completed, held
    }

    var id: UUID
    var kind: Kind
    var fromUserId: UUID?
    var toUserId: UUID
    var amount: Int64
    var status: Status
    var note: String?
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, kind, fromUserId, toUserId, amount, status, note, createdAt
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lowercase: id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(lowercase: fromUserId, forKey: .fromUserId)
        try container.encode(lowercase: toUserId, forKey: .toUserId)
        try container.encode(amount, forKey: .amount)
        try container.encode(status, forKey: .status)
        try container.encode(note, forKey: .note)
        try container.encode(createdAt, forKey: .createdAt)
    }
}

/// `{"transaction": {...}}`.
struct TransactionEnvelope: Encodable, Sendable {
    var transaction: LedgerTransaction
}

/// A ledger row with its position, for cursor pagination.
struct LedgerEntry: Sendable {
    var seq: Int64
    var transaction: LedgerTransaction
}

/// The opaque `cursor` of `GET /api/v1/transactions`: the last row's position.
struct TransactionCursor: Codable, Sendable {
    var seq: Int64
}

/// `POST /api/v1/wallet/deposits` body.
struct DepositInput: Codable, Sendable {
    var amount: Int

    func validated() throws -> Int64 {
        try Amounts.validate(amount)
    }
}

/// `POST /api/v1/transfers` body. `to_user_id` is read as text so that a
/// malformed id is a 400 naming the field.
struct TransferInput: Codable, Sendable {
    var toUserId: String
    var amount: Int
    var note: String?

    static let maxNoteLength = 500

    func validated(sender: UUID) throws -> TransferCommand {
        guard let recipient = UUID(uuidString: toUserId) else {
            throw APIError.badRequest("to_user_id must be a user id (UUID)", code: "invalid_request")
        }
        let amount = try Amounts.validate(amount)
        if let note {
            guard note.unicodeScalars.count <= Self.maxNoteLength else {
                throw APIError.badRequest("note must be at most \(Self.maxNoteLength) characters", code: "invalid_request")
            }
            guard !note.unicodeScalars.contains("\u{0}") else {
                throw APIError.badRequest("note must not contain NUL characters", code: "invalid_request")
            }
        }
        return TransferCommand(from: sender, to: recipient, amount: amount, note: note)
    }
}

/// A validated transfer.
struct TransferCommand: Sendable {
    var from: UUID
    var to: UUID
    var amount: Int64
    var note: String?
}

enum Amounts {
    static let range = 1...100_000_000

    static func validate(_ amount: Int) throws -> Int64 {
        guard range.contains(amount) else {
            throw APIError.badRequest("amount must be an integer from 1 to 100000000 (minor units)", code: "invalid_amount")
        }
        return Int64(amount)
    }
}

/// The fraud rules from the topology.
struct FraudRules: Sendable {
    var holdAbove: Int64
    var maxTransfersPerMinute: Int
}
