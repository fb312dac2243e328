import Foundation

/// Reads a service's settings from environment variables, secrets from the
/// files named by `NAME_FILE`, and collects every problem so that start-up
/// fails once with the full list instead of one variable at a time.
public final class EnvironmentReader: @unchecked Sendable {
    // Used only during start-up, from one task.
    private let values: [String: String]
    public private(set) var problems: [String] = []

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    public func string(_ name: String, default fallback: String? = nil) -> String {
        if let value = values[name], !value.isEmpty { return value }
        if let fallback { return fallback }
        problems.append("\(name) is required")
        return ""
    }

    public func optionalString(_ name: String) -> String? {
        values[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Records a problem the caller found (a combination of settings, say),
    /// reported with the reader's own.
    public func problem(_ text: String) {
        problems.append(text)
    }

    /// A comma-separated list, items trimmed, empty items dropped; `[]` when unset.
    public func list(_ name: String) -> [String] {
        (optionalString(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public func bool(_ name: String, default fallback: Bool) -> Bool {
        switch optionalString(name)?.lowercased() {
        case nil: return fallback
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        case let other?:
            problems.append("\(name) must be true or false, found '\(other)'")
            return fallback
        }
    }

    public func double(_ name: String, default fallback: Double, in range: ClosedRange<Double>) -> Double {
        guard let text = optionalString(name) else { return fallback }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            problems.append("\(name) must be a number in \(range.lowerBound)...\(range.upperBound), found '\(text)'")
            return fallback
        }
        return value
    }

    public func int(_ name: String, default fallback: Int? = nil, in range: ClosedRange<Int> = Int.min...Int.max) -> Int {
        guard let text = optionalString(name) else {
            if let fallback { return fallback }
            problems.append("\(name) is required")
            return range.lowerBound
        }
        guard let value = Int(text), range.contains(value) else {
            problems.append("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), found '\(text)'")
            return fallback ?? range.lowerBound
        }
        return value
    }

    /// A duration written like the topology's: `500ms`, `10s`, `5m`, `1h`.
    public func duration(_ name: String, default fallback: Duration) -> Duration {
        guard let text = optionalString(name) else { return fallback }
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        let digits = text.prefix { $0.isNumber }
        let suffix = String(text.dropFirst(digits.count))
        guard let amount = Int64(digits), let unit = units.first(where: { $0.0 == suffix }) else {
            problems.append("\(name) must be a duration like 500ms, 10s or 5m, found '\(text)'")
            return fallback
        }
        return .milliseconds(amount * unit.1)
    }

    /// A duration that must lie within `range`; `why` explains a bound that is not obvious.
    public func duration(_ name: String, default fallback: Duration, in range: ClosedRange<Duration>, why: String? = nil) -> Duration {
        let value = duration(name, default: fallback)
        guard range.contains(value) else {
            let bounds = "between \(Self.text(range.lowerBound)) and \(Self.text(range.upperBound))"
            problems.append("\(name) must be \(bounds)\(why.map { " (\($0))" } ?? ""), found '\(optionalString(name) ?? "")'")
            return fallback
        }
        return value
    }

    /// `90s`, `10m`, `24h`: the largest unit that divides the duration, as the topology writes it.
    static func text(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where milliseconds % size == 0 && milliseconds >= size {
            return "\(milliseconds / size)\(unit)"
        }
        return "\(milliseconds)ms"
    }

    /// The contents of the file named by `NAME_FILE`, without a trailing newline.
    /// Secrets are never read from plain variables, so they never show up in
    /// `docker inspect` or a process listing.
    public func secret(_ name: String) -> String {
        let fileVariable = "\(name)_FILE"
        guard let path = optionalString(fileVariable) else {
            problems.append("\(fileVariable) is required (the path of the file holding \(name))")
            return ""
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            problems.append("\(fileVariable) names \(path), which cannot be read")
            return ""
        }
        let value = text.trimmingCharacters(in: .newlines)
        if value.isEmpty { problems.append("\(path) (\(fileVariable)) is empty") }
        return value
    }

    /// Throws one error listing every problem found so far.
    public func finish(service: String) throws {
        if !problems.isEmpty { throw ConfigurationError(service: service, problems: problems) }
    }
}

/// Start-up configuration was incomplete or malformed.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var service: String
    public var problems: [String]

    public init(service: String, problems: [String]) {
        self.service = service
        self.problems = problems
    }

    public var description: String {
        "\(service): invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
