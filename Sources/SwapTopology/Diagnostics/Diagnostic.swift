/// One problem found in a topology, printed compiler style:
/// `topology.yaml:41:11: error: port 3002 is already used by service 'financial' (topology.yaml:23:11)`.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error
        case warning
    }

    public var severity: Severity
    public var location: SourceLocation
    public var message: String
    /// A second place that explains the first (the earlier definition of a duplicate, say).
    public var related: SourceLocation?

    public init(_ severity: Severity, _ message: String, at location: SourceLocation, related: SourceLocation? = nil) {
        self.severity = severity
        self.location = location
        self.message = message
        self.related = related
    }

    public var description: String {
        var text = "\(location): \(severity.rawValue): \(message)"
        if let related { text += " (\(related))" }
        return text
    }
}

/// Collects diagnostics across loading, merging, decoding and validation,
/// so that every problem is reported in one run.
public final class DiagnosticBag: @unchecked Sendable {
    // Used from one thread at a time (the loading pipeline); a class so the
    // decoding helpers can share it without threading it through every return.
    public private(set) var diagnostics: [Diagnostic] = []

    public init() {}

    public func error(_ message: String, at location: SourceLocation, related: SourceLocation? = nil) {
        diagnostics.append(Diagnostic(.error, message, at: location, related: related))
    }

    public func warning(_ message: String, at location: SourceLocation, related: SourceLocation? = nil) {
        diagnostics.append(Diagnostic(.warning, message, at: location, related: related))
    }

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// Diagnostics in file order, then line and column, without repeats.
    public var sorted: [Diagnostic] {
        var seen = Set<Diagnostic>()
        return diagnostics
            .filter { seen.insert($0).inserted }
            .enumerated()
            .sorted { ($0.element.location, $0.offset) < ($1.element.location, $1.offset) }
            .map(\.element)
    }
}
