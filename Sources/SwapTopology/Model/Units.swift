/// Durations written `500ms`, `10s`, `5m`, `2h`, `7d`.
public enum DurationText {
    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000),
    ]

    public static func parse(_ text: String) -> Duration? {
        let digits = text.prefix { $0.isNumber }
        let suffix = text.dropFirst(digits.count)
        guard !digits.isEmpty, digits.count <= 12, let amount = Int64(digits),
              let unit = units.first(where: { $0.suffix == suffix }) else { return nil }
        let (total, overflow) = amount.multipliedReportingOverflow(by: unit.milliseconds)
        return overflow ? nil : .milliseconds(total)
    }

    /// The shortest exact text: `90s` stays `90s`, `120s` becomes `2m`.
    public static func format(_ duration: Duration) -> String {
        let milliseconds = milliseconds(duration)
        for unit in units.reversed() where unit.milliseconds > 1 && milliseconds % unit.milliseconds == 0 && milliseconds > 0 {
            return "\(milliseconds / unit.milliseconds)\(unit.suffix)"
        }
        return "\(milliseconds)ms"
    }

    public static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    public static func seconds(_ duration: Duration) -> Int64 { milliseconds(duration) / 1000 }
}

public extension Duration {
    /// Compose/Swarm and Prometheus style: `10s`, `500ms`.
    var text: String { DurationText.format(self) }
    var wholeSeconds: Int64 { DurationText.seconds(self) }
    var totalMilliseconds: Int64 { DurationText.milliseconds(self) }
}

/// A size in bytes, written `512`, `64k`, `256M`, `256mb`, `1G`.
public struct ByteSize: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var bytes: Int64

    public init(bytes: Int64) { self.bytes = bytes }

    public init?(_ text: String) {
        let digits = text.prefix { $0.isNumber }
        let unit = text.dropFirst(digits.count).lowercased()
        let factors: [String: Int64] = ["": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30]
        guard !digits.isEmpty, digits.count <= 15, let amount = Int64(digits), let factor = factors[unit] else { return nil }
        let (total, overflow) = amount.multipliedReportingOverflow(by: factor)
        guard !overflow else { return nil }
        bytes = total
    }

    public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool { lhs.bytes < rhs.bytes }

    /// Docker style: `256M`, `1G`, `64K` or plain bytes.
    public var description: String { format(units: ["G", "M", "K"]) }
    /// nginx style (`client_max_body_size 10m`).
    public var nginx: String { format(units: ["g", "m", "k"]) }
    /// Redis style (`maxmemory 256mb`).
    public var redis: String { format(units: ["gb", "mb", "kb"]) }

    private func format(units: [String]) -> String {
        let factors: [Int64] = [1 << 30, 1 << 20, 1 << 10]
        for (factor, unit) in zip(factors, units) where bytes >= factor && bytes % factor == 0 {
            return "\(bytes / factor)\(unit)"
        }
        return "\(bytes)"
    }
}
