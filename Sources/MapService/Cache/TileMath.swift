import Foundation

/// A Web Mercator (XYZ) tile.
struct TileID: Hashable, Sendable, CustomStringConvertible {
    var z: Int
    var x: Int
    var y: Int

    static let maxZoom = 22

    /// Validates `z` 0..22 and `x`, `y` inside the zoom's range.
    init?(z: Int, x: Int, y: Int) {
        guard (0...Self.maxZoom).contains(z) else { return nil }
        let size = 1 << z
        guard (0..<size).contains(x), (0..<size).contains(y) else { return nil }
        self.z = z
        self.x = x
        self.y = y
    }

    var description: String { "\(z)/\(x)/\(y)" }
}

/// Which tiles a point or a circle touches, for cache invalidation. The
/// computations only need to return a superset of what PostGIS draws or
/// finds, so they round outwards (a margin around each tile, an inflated
/// radius).
enum TileMath {
    /// The latitude limit of Web Mercator; beyond it points clamp to the edge row.
    static let maxLatitude = 85.051_128_779_806_59
    /// Mean Earth radius, as PostGIS's sphere (`use_spheroid => false`) uses.
    static let earthRadius = 6_371_008.771_4

    /// Tile coordinates as fractions: x in 0...2^z (west to east), y in 0...2^z (north to south).
    static func fractional(lat: Double, lon: Double, zoom: Int) -> (x: Double, y: Double) {
        let n = Double(1 << zoom)
        let latitude = min(max(lat, -maxLatitude), maxLatitude) * .pi / 180
        let x = (lon + 180) / 360 * n
        let y = (1 - asinh(tan(latitude)) / .pi) / 2 * n
        return (x, y)
    }

    /// Every tile, at every zoom 0...22, whose envelope grown by `margin`
    /// (a fraction of the tile's width) contains the point: at most four per zoom.
    static func tilesTouching(lat: Double, lon: Double, margin: Double) -> [TileID] {
        var tiles: [TileID] = []
        for zoom in 0...TileID.maxZoom {
            let (fx, fy) = fractional(lat: lat, lon: lon, zoom: zoom)
            for x in clampedRange(fx - margin, fx + margin, zoom: zoom) {
                for y in clampedRange(fy - margin, fy + margin, zoom: zoom) {
                    tiles.append(TileID(z: zoom, x: x, y: y)!)
                }
            }
        }
        return tiles
    }

    /// The tiles at one zoom that cover a circle (centre, radius in metres on
    /// the sphere): the highest zoom up to `maxZoom` needing at most
    /// `maxTiles`. Any point inside the circle lies in one of them (after
    /// latitude clamping, as ``tilesTouching(lat:lon:margin:)`` does).
    static func tilesCovering(lat: Double, lon: Double, radius: Double, maxZoom: Int = 16, maxTiles: Int = 9) -> [TileID] {
        let box = boundingBox(lat: lat, lon: lon, radius: radius)
        for zoom in stride(from: maxZoom, through: 0, by: -1) {
            let (_, north) = fractional(lat: box.north, lon: 0, zoom: zoom)
            let (_, south) = fractional(lat: box.south, lon: 0, zoom: zoom)
            let rows = clampedRange(north, south, zoom: zoom)
            var columns: [Int] = []
            for range in box.longitudes {
                let (west, _) = fractional(lat: 0, lon: range.lowerBound, zoom: zoom)
                let (east, _) = fractional(lat: 0, lon: range.upperBound, zoom: zoom)
                columns += clampedRange(west, east, zoom: zoom)
            }
            columns = Array(Set(columns)).sorted()
            guard zoom == 0 || columns.count * rows.count <= maxTiles else { continue }
            return columns.flatMap { x in rows.map { TileID(z: zoom, x: x, y: $0)! } }
        }
        return [TileID(z: 0, x: 0, y: 0)!]
    }

    /// The latitude/longitude box of a circle on the sphere, radius inflated
    /// a little against rounding; longitudes split in two where it crosses
    /// the antimeridian, and the full range when it contains a pole.
    static func boundingBox(lat: Double, lon: Double, radius: Double) -> (south: Double, north: Double, longitudes: [ClosedRange<Double>]) {
        let angle = (radius * 1.001 + 1) / earthRadius
        let degrees = angle * 180 / .pi
        let south = lat - degrees
        let north = lat + degrees
        guard south > -90, north < 90 else {
            return (max(south, -90), min(north, 90), [-180...180])
        }
        let latitude = lat * .pi / 180
        let ratio = sin(angle) / cos(latitude)
        guard ratio < 1 else { return (south, north, [-180...180]) }
        let spread = asin(ratio) * 180 / .pi
        let west = lon - spread
        let east = lon + spread
        if west < -180 {
            return (south, north, [-180...east, (west + 360)...180])
        }
        if east > 180 {
            return (south, north, [west...180, -180...(east - 360)])
        }
        return (south, north, [west...east])
    }

    /// Tile indexes from the one holding `low` to the one holding `high`, inside the zoom's range.
    private static func clampedRange(_ low: Double, _ high: Double, zoom: Int) -> ClosedRange<Int> {
        let last = (1 << zoom) - 1
        let first = min(max(Int(floor(low)), 0), last)
        let end = min(max(Int(floor(high)), 0), last)
        return first...max(first, end)
    }
}
