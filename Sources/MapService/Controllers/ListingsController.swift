import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceKit

/// `/api/v1/listings`: create, read (anyone signed in), delete (owner only;
/// anyone else gets 404), and nearby search (cached, see ``MapCache``).
struct ListingsController: Sendable {
    let repository: any ListingRepository
    let cache: MapCache

    struct CreateInput: Decodable, Sendable {
        var title: String
        var lat: Double
        var lon: Double
        var category: String?
    }

    func add(to group: RouterGroup<ServiceRequestContext>) {
        group.post(use: create)
        // A constant segment wins over the `:id` capture in Hummingbird's trie.
        group.get("/nearby", use: nearby)
        group.get("/:id", use: show)
        group.delete("/:id", use: delete)
    }

    @Sendable func create(_ request: Request, context: ServiceRequestContext) async throws -> EditedResponse<ListingBody> {
        let caller = try context.requireUser()
        let input = try await request.decode(as: CreateInput.self, context: context)
        let listing = NewListing(
            title: try MapValidate.text(input.title, field: "title", maxLength: 200, trimmedNonEmpty: true),
            category: try input.category.map { try MapValidate.text($0, field: "category", maxLength: 100, trimmedNonEmpty: true) },
            lat: try MapValidate.coordinate(input.lat, field: "lat", limit: 90),
            lon: try MapValidate.coordinate(input.lon, field: "lon", limit: 180)
        )
        switch try await repository.create(listing, owner: caller.id) {
        case .created(let created):
            await cache.invalidate(lat: created.lat, lon: created.lon)
            context.logger.info("listing created", metadata: ["listing_id": "\(created.id.lowercaseString)"])
            return EditedResponse(status: .created, response: ListingBody(listing: created))
        case .ownerNotFound:
            throw APIError.unauthorized("the user of this access token no longer exists")
        }
    }

    @Sendable func show(_ request: Request, context: ServiceRequestContext) async throws -> ListingBody {
        _ = try context.requireUser()
        let id = try MapValidate.pathID(context)
        guard let listing = try await repository.listing(id) else { throw Self.notFound }
        return ListingBody(listing: listing)
    }

    @Sendable func delete(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let caller = try context.requireUser()
        let id = try MapValidate.pathID(context)
        guard let deleted = try await repository.delete(id, owner: caller.id) else { throw Self.notFound }
        await cache.invalidate(lat: deleted.lat, lon: deleted.lon)
        return Response(status: .noContent)
    }

    /// `?lat=&lon=&radius_m=&limit=`: lat -90..90, lon -180..180, radius_m
    /// 1..50000 (metres), limit 1..100 (default 20). Answers `X-Cache`.
    @Sendable func nearby(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        _ = try context.requireUser()
        let query = request.uri.queryParameters
        let lat = try MapValidate.coordinate(MapValidate.number(query["lat"].map(String.init), field: "lat"), field: "lat", limit: 90)
        let lon = try MapValidate.coordinate(MapValidate.number(query["lon"].map(String.init), field: "lon"), field: "lon", limit: 180)
        let radius = try MapValidate.number(query["radius_m"].map(String.init), field: "radius_m")
        guard (1...50_000).contains(radius) else {
            throw APIError.badRequest("radius_m must be a number from 1 to 50000", code: "invalid_request")
        }
        let limit = try MapValidate.limit(query["limit"].map(String.init))
        let (bytes, lookup) = try await cache.nearby(lat: lat, lon: lon, radius: radius, limit: limit) {
            let items = try await repository.nearby(lat: lat, lon: lon, radius: radius, limit: limit)
            return Array(try APIJSON.encoder.encode(NearbyBody(items: items)))
        }
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .xCache: lookup.rawValue],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    static let notFound = APIError.notFound("listing not found")
}

extension HTTPField.Name {
    /// Whether a response came from the cache: HIT, MISS or BYPASS (Redis unavailable).
    static let xCache = HTTPField.Name("X-Cache")!
}

/// Input checks; every failure is a 400 in the API.md shape.
enum MapValidate {
    static func pathID(_ context: ServiceRequestContext) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw APIError.badRequest("the id in the path must be a UUID", code: "invalid_id")
        }
        return id
    }

    /// A finite decimal number from a query parameter (required).
    static func number(_ text: String?, field: String) throws -> Double {
        guard let text else { throw APIError.badRequest("\(field) is required", code: "invalid_request") }
        guard let value = Double(text), value.isFinite else {
            throw APIError.badRequest("\(field) must be a number", code: "invalid_request")
        }
        return value
    }

    /// -limit...limit.
    static func coordinate(_ value: Double, field: String, limit: Double) throws -> Double {
        guard value.isFinite, (-limit...limit).contains(value) else {
            throw APIError.badRequest("\(field) must be a number from \(Int(-limit)) to \(Int(limit))", code: "invalid_request")
        }
        return value
    }

    static func limit(_ text: String?) throws -> Int {
        guard let text else { return 20 }
        guard let limit = Int(text), (1...100).contains(limit) else {
            throw APIError.badRequest("limit must be an integer from 1 to 100", code: "invalid_limit")
        }
        return limit
    }

    /// 1...maxLength Unicode code points (as PostgreSQL's char_length counts),
    /// not only whitespace, no NUL (PostgreSQL text cannot hold it).
    static func text(_ value: String, field: String, maxLength: Int, trimmedNonEmpty: Bool) throws -> String {
        guard (1...maxLength).contains(value.unicodeScalars.count) else {
            throw APIError.badRequest("\(field) must be 1 to \(maxLength) characters", code: "invalid_request")
        }
        if trimmedNonEmpty, value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw APIError.badRequest("\(field) must not be blank", code: "invalid_request")
        }
        guard !value.unicodeScalars.contains("\u{0}") else {
            throw APIError.badRequest("\(field) must not contain NUL characters", code: "invalid_request")
        }
        return value
    }
}
