import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import ServiceKit

/// `GET /api/v1/tiles/{z}/{x}/{y}.mvt`: the listings as a Mapbox Vector
/// Tile (layer `listings`, properties id, owner_id, title, category), cached
/// in Redis (see ``MapCache``), with a strong ETag (SHA-256 of the bytes)
/// and 304 on a matching If-None-Match.
struct TilesController: Sendable {
    let repository: any ListingRepository
    let cache: MapCache

    static let contentType = "application/vnd.mapbox-vector-tile"
    /// Tiles are per signed-in user (private) and must be revalidated (a cheap
    /// 304 when unchanged) so a new listing shows at once.
    static let cacheControl = "private, no-cache"

    func add(to group: RouterGroup<ServiceRequestContext>) {
        group.get("/:z/:x/{y}.mvt", use: tile)
    }

    @Sendable func tile(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        _ = try context.requireUser()
        guard let z = context.parameters.get("z").flatMap({ Int($0) }),
              let x = context.parameters.get("x").flatMap({ Int($0) }),
              let y = context.parameters.get("y").flatMap({ Int($0) }),
              let tile = TileID(z: z, x: x, y: y)
        else {
            throw APIError.badRequest("a tile is z/x/y.mvt with z 0..22 and x, y from 0 to 2^z-1", code: "invalid_tile")
        }
        let (bytes, lookup) = try await cache.tile(tile) { try await repository.tile(tile) }
        let etag = Self.etag(bytes)
        var headers: HTTPFields = [.eTag: etag, .cacheControl: Self.cacheControl, .xCache: lookup.rawValue]
        if let condition = request.headers[.ifNoneMatch], Self.matches(condition, etag: etag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = Self.contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A strong validator: the first 128 bits of SHA-256 of the bytes, quoted.
    static func etag(_ bytes: [UInt8]) -> String {
        "\"" + SHA256.hash(data: bytes).prefix(16).map { String(format: "%02x", $0) }.joined() + "\""
    }

    /// If-None-Match uses the weak comparison (RFC 9110 13.1.2): `W/` is ignored; `*` matches.
    static func matches(_ header: String, etag: String) -> Bool {
        for candidate in header.split(separator: ",") {
            var tag = candidate.trimmingCharacters(in: .whitespaces)
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            if tag == etag { return true }
        }
        return false
    }
}
