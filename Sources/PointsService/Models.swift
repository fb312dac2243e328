import Foundation
import Hummingbird
import ServiceKit

/// `GET /api/v1/points`.
struct PointsBalance: ResponseEncodable, Sendable, Equatable {
    var userId: UUID
    var balance: Int64
    var lifetime: Int64

    enum CodingKeys: String, CodingKey {
        case userId, balance, lifetime
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lowercase: userId, forKey: .userId)
        try container.encode(balance, forKey: .balance)
        try container.encode(lifetime, forKey: .lifetime)
    }
}

/// An item of `GET /api/v1/points/history`; `source_event_id` is `null` for redemptions.
struct HistoryItem: Encodable, Sendable, Equatable {
    var id: UUID
    var delta: Int64
    var reason: String
    var sourceEventId: UUID?
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, delta, reason, sourceEventId, createdAt
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lowercase: id, forKey: .id)
        try container.encode(delta, forKey: .delta)
        try container.encode(reason, forKey: .reason)
        try container.encode(lowercase: sourceEventId, forKey: .sourceEventId)
        try container.encode(createdAt, forKey: .createdAt)
    }
}

/// A history item with its position, for cursor pagination.
struct HistoryEntry: Sendable {
    var seq: Int64
    var item: HistoryItem
}

/// The opaque `cursor` of `GET /api/v1/points/history`.
struct HistoryCursor: Codable, Sendable {
    var seq: Int64
}

struct Reward: Encodable, Sendable, Equatable {
    var id: UUID
    var name: String
    var cost: Int64

    enum CodingKeys: String, CodingKey {
        case id, name, cost
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lowercase: id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(cost, forKey: .cost)
    }
}

/// `GET /api/v1/rewards`: the whole catalogue (small, not paginated).
struct RewardList: ResponseEncodable, Sendable {
    var items: [Reward]
}

struct Redemption: Encodable, Sendable, Equatable {
    var id: UUID
    var rewardId: UUID
    var cost: Int64
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, rewardId, cost, createdAt
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lowercase: id, forKey: .id)
        try container.encode(lowercase: rewardId, forKey: .rewardId)
        try container.encode(cost, forKey: .cost)
        try container.encode(createdAt, forKey: .createdAt)
    }
}

/// `{"redemption": {...}}`.
struct RedemptionEnvelope: Encodable, Sendable {
    var redemption: Redemption
}

/// The `data` of a `points.awarded` event.
struct PointsAwarded: Codable, Sendable, Equatable {
    var userId: UUID
    var delta: Int64
    var balance: Int64
    var sourceEventId: UUID

    enum CodingKeys: String, CodingKey {
        case userId, delta, balance, sourceEventId
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lowercase: userId, forKey: .userId)
        try container.encode(delta, forKey: .delta)
        try container.encode(balance, forKey: .balance)
        try container.encode(lowercase: sourceEventId, forKey: .sourceEventId)
    }
}

/// What the points service reads from a `transaction.completed` event's
/// `data` (API.md's transaction; other fields are ignored).
struct CompletedTransaction: Decodable, Sendable {
    var id: UUID
    var kind: String
    var fromUserId: UUID?
    var amount: Int64
    var status: String
}
