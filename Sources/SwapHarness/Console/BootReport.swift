import Foundation

/// The timing of one boot, for `swapctl bench boot`: when each component
/// started and how long it took to be ready, and the chain of components
/// that decided when everything was ready (the critical path).
public struct BootReport: Sendable {
    public struct Row: Sendable {
        public var name: String
        public var kind: ComponentKind
        /// Milliseconds from the start of the boot.
        public var startedAt: Int
        public var readyAt: Int
        public var readyIn: Int { readyAt - startedAt }
    }

    public var rows: [Row]
    /// From the start of the boot to the last component ready.
    public var totalMilliseconds: Int
    /// Component names, first to last.
    public var criticalPath: [String]

    public init(_ state: StackState) {
        rows = state.components.compactMap { component in
            guard let start = component.startedAtMs, let ready = component.readyAtMs else { return nil }
            return Row(name: component.name, kind: component.kind, startedAt: start, readyAt: ready)
        }
        totalMilliseconds = state.bootMilliseconds ?? rows.map(\.readyAt).max() ?? 0
        var path: [String] = []
        var current = state.components.filter { $0.readyAtMs != nil }.max { ($0.readyAtMs ?? 0) < ($1.readyAtMs ?? 0) }
        while let component = current {
            path.insert(component.name, at: 0)
            // The dependency it waited for longest: the last of them to be ready.
            current = component.dependencies.compactMap { state.component($0) }.max { ($0.readyAtMs ?? 0) < ($1.readyAtMs ?? 0) }
        }
        criticalPath = path
    }

    /// The table and the critical path as text lines.
    public var lines: [String] {
        var lines = ["component      kind       started at   ready in   ready at"]
        for row in rows.sorted(by: { $0.readyAt < $1.readyAt }) {
            lines.append(
                row.name.padding(toLength: 14, withPad: " ", startingAt: 0) + " "
                    + row.kind.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                    + Self.right("+\(row.startedAt) ms", 13) + Self.right("\(row.readyIn) ms", 11) + Self.right("\(row.readyAt) ms", 11)
            )
        }
        let byName = Dictionary(rows.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let chain = criticalPath.map { name in byName[name].map { "\(name) (\($0.readyIn) ms)" } ?? name }
        lines.append("critical path: " + chain.joined(separator: " -> "))
        lines.append("all ready in \(totalMilliseconds) ms")
        return lines
    }

    private static func right(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
