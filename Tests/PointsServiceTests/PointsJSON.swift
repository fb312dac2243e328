import Foundation

struct PointsJSON: Decodable, Equatable, Sendable {
    var userId: UUID
    var balance: Int
    var lifetime: Int
}

struct HistoryJSON: Decodable, Equatable, Sendable {
    var id: UUID
    var delta: Int
    var reason: String
    var sourceEventId: UUID?
    var createdAt: Date
}

struct HistoryPage: Decodable, Sendable {
    var items: [HistoryJSON]
    var nextCursor: String?
}

struct RewardJSON: Decodable, Equatable, Sendable {
    var id: UUID
    var name: String
    var cost: Int
}

struct RedemptionJSON: Decodable, Equatable, Sendable {
    var id: UUID
    var rewardId: UUID
    var cost: Int
    var createdAt: Date
}

struct RedemptionReply: Decodable, Sendable {
    var redemption: RedemptionJSON
}
