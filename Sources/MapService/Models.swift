import Foundation
import Hummingbird
import ServiceKit

/// `listing` in API.md: `{id, owner_id, title, category, lat, lon, created_at}`.
struct Listing: Sendable, Equatable, Codable {
    var id: UUID
    var ownerID: UUID
    var title: String
    var category: String?
    var lat: Double
    var lon: Double
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, ownerId, title, category, lat, lon, createdAt
    }

    init(id: UUID, ownerID: UUID, title: String, category: String?, lat: Double, lon: Double, createdAt: Date) {
        self.id = id
        self.ownerID = ownerID
        self.title = title
        self.category = category
        self.lat = lat
        self.lon = lon
        self.createdAt = createdAt
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UUID.self, forKey: .id)
        ownerID = try container.decode(UUID.self, forKey: .ownerId)
        title = try container.decode(String.self, forKey: .title)
        category = try container.decodeIfPresent(String.self, forKey: .category)
        lat = try container.decode(Double.self, forKey: .lat)
        lon = try container.decode(Double.self, forKey: .lon)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.lowercaseString, forKey: .id)
        try container.encode(ownerID.lowercaseString, forKey: .ownerId)
        try container.encode(title, forKey: .title)
        try container.encode(category, forKey: .category)  // null, never omitted
        try container.encode(lat, forKey: .lat)
        try container.encode(lon, forKey: .lon)
        try container.encode(createdAt, forKey: .createdAt)
    }
}

/// A nearby result: the listing's fields plus `distance_m`.
struct NearbyListing: Sendable, Equatable, Codable {
    var listing: Listing
    /// Metres on the mean-radius sphere.
    var distanceM: Double

    enum CodingKeys: String, CodingKey {
        case distanceM
    }

    init(listing: Listing, distanceM: Double) {
        self.listing = listing
        self.distanceM = distanceM
    }

    init(from decoder: any Decoder) throws {
        listing = try Listing(from: decoder)
        distanceM = try decoder.container(keyedBy: CodingKeys.self).decode(Double.self, forKey: .distanceM)
    }

    func encode(to encoder: any Encoder) throws {
        try listing.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(distanceM, forKey: .distanceM)
    }
}

/// `{"listing": {...}}`.
struct ListingBody: ResponseEncodable {
    var listing: Listing
}

/// `{"items": [...]}` of a nearby search.
struct NearbyBody: Codable, Sendable {
    var items: [NearbyListing]
}
