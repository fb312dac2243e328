import Foundation

/// A minimal protobuf reader for the Mapbox Vector Tile 2.1 structure
/// (tile -> layers -> features with tags and geometry commands), enough to
/// check what the map service serves. It rejects malformed input.
struct VectorTile {
    struct Layer {
        var version: UInt64 = 1
        var name = ""
        var extent: UInt64 = 4096
        var keys: [String] = []
        var values: [Value] = []
        var features: [Feature] = []
    }

    struct Feature {
        var id: UInt64?
        var tags: [UInt64] = []
        var type: UInt64 = 0
        var geometry: [UInt32] = []
    }

    enum Value: Equatable {
        case string(String)
        case double(Double)
        case int(Int64)
        case bool(Bool)
    }

    enum Failure: Error {
        case truncated
        case badWireType(UInt64)
        case badGeometry
        case badTags
    }

    var layers: [Layer] = []

    /// A tile from a response body.
    init(_ body: Data) throws {
        try self.init(Array(body))
    }

    init(_ bytes: [UInt8]) throws {
        var reader = ProtobufReader(bytes[...])
        while let (field, wire) = try reader.nextField() {
            if field == 3, wire == 2 {
                layers.append(try Self.layer(try reader.lengthDelimited()))
            } else {
                try reader.skip(wire)
            }
        }
    }

    /// A feature's properties by key.
    func properties(of feature: Feature, in layer: Layer) throws -> [String: Value] {
        guard feature.tags.count % 2 == 0 else { throw Failure.badTags }
        var result: [String: Value] = [:]
        var index = 0
        while index < feature.tags.count {
            let key = Int(feature.tags[index]), value = Int(feature.tags[index + 1])
            guard key < layer.keys.count, value < layer.values.count else { throw Failure.badTags }
            result[layer.keys[key]] = layer.values[value]
            index += 2
        }
        return result
    }

    /// The points of a POINT feature (type 1), in tile coordinates: MoveTo commands with zigzag deltas.
    static func points(of feature: Feature) throws -> [(x: Int64, y: Int64)] {
        guard feature.type == 1 else { throw Failure.badGeometry }
        var points: [(Int64, Int64)] = []
        var x: Int64 = 0, y: Int64 = 0
        var index = 0
        while index < feature.geometry.count {
            let command = feature.geometry[index]
            let id = command & 0x7, count = Int(command >> 3)
            guard id == 1, count >= 1, index + 1 + 2 * count <= feature.geometry.count else { throw Failure.badGeometry }
            for point in 0..<count {
                x += zigzag(feature.geometry[index + 1 + 2 * point])
                y += zigzag(feature.geometry[index + 2 + 2 * point])
                points.append((x, y))
            }
            index += 1 + 2 * count
        }
        return points
    }

    static func zigzag(_ value: UInt32) -> Int64 {
        Int64(value >> 1) ^ -Int64(value & 1)
    }

    private static func layer(_ bytes: ArraySlice<UInt8>) throws -> Layer {
        var layer = Layer()
        var reader = ProtobufReader(bytes)
        while let (field, wire) = try reader.nextField() {
            switch (field, wire) {
            case (15, 0): layer.version = try reader.varint()
            case (1, 2): layer.name = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
            case (2, 2): layer.features.append(try feature(try reader.lengthDelimited()))
            case (3, 2): layer.keys.append(String(decoding: try reader.lengthDelimited(), as: UTF8.self))
            case (4, 2): layer.values.append(try value(try reader.lengthDelimited()))
            case (5, 0): layer.extent = try reader.varint()
            default: try reader.skip(wire)
            }
        }
        return layer
    }

    private static func feature(_ bytes: ArraySlice<UInt8>) throws -> Feature {
        var feature = Feature()
        var reader = ProtobufReader(bytes)
        while let (field, wire) = try reader.nextField() {
            switch (field, wire) {
            case (1, 0): feature.id = try reader.varint()
            case (2, 2): feature.tags = try reader.packedVarints(try reader.lengthDelimited())
            case (3, 0): feature.type = try reader.varint()
            case (4, 2): feature.geometry = try reader.packedVarints(try reader.lengthDelimited()).map { UInt32(truncatingIfNeeded: $0) }
            default: try reader.skip(wire)
            }
        }
        return feature
    }

    private static func value(_ bytes: ArraySlice<UInt8>) throws -> Value {
        var reader = ProtobufReader(bytes)
        var result = Value.bool(false)
        while let (field, wire) = try reader.nextField() {
            switch (field, wire) {
            case (1, 2): result = .string(String(decoding: try reader.lengthDelimited(), as: UTF8.self))
            case (2, 5): result = .double(Double(Float(bitPattern: UInt32(truncatingIfNeeded: try reader.fixed(4)))))
            case (3, 1): result = .double(Double(bitPattern: try reader.fixed(8)))
            case (4, 0), (5, 0): result = .int(Int64(bitPattern: try reader.varint()))
            case (6, 0):
                let raw = try reader.varint()
                result = .int(Int64(raw >> 1) ^ -Int64(raw & 1))
            case (7, 0): result = .bool(try reader.varint() != 0)
            default: try reader.skip(wire)
            }
        }
        return result
    }
}

/// Protobuf wire format: varints, length-delimited fields, fixed 32/64-bit.
struct ProtobufReader {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    mutating func nextField() throws -> (field: UInt64, wire: UInt64)? {
        guard !bytes.isEmpty else { return nil }
        let key = try varint()
        return (key >> 3, key & 0x7)
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard let byte = bytes.popFirst(), shift < 64 else { throw VectorTile.Failure.truncated }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func lengthDelimited() throws -> ArraySlice<UInt8> {
        let length = Int(try varint())
        guard length <= bytes.count else { throw VectorTile.Failure.truncated }
        let slice = bytes.prefix(length)
        bytes = bytes.dropFirst(length)
        return slice
    }

    mutating func fixed(_ size: Int) throws -> UInt64 {
        guard size <= bytes.count else { throw VectorTile.Failure.truncated }
        var value: UInt64 = 0
        for (index, byte) in bytes.prefix(size).enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
        bytes = bytes.dropFirst(size)
        return value
    }

    mutating func packedVarints(_ slice: ArraySlice<UInt8>) throws -> [UInt64] {
        var inner = ProtobufReader(slice)
        var values: [UInt64] = []
        while !inner.bytes.isEmpty { values.append(try inner.varint()) }
        return values
    }

    mutating func skip(_ wire: UInt64) throws {
        switch wire {
        case 0: _ = try varint()
        case 1: _ = try fixed(8)
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed(4)
        default: throw VectorTile.Failure.badWireType(wire)
        }
    }
}
