import Foundation

/// The front half of the pipeline: read topology.yaml and one environment
/// overlay, merge, decode and validate. Nothing here writes to disk.
public struct TopologyLoader: Sendable {
    /// The folder that holds topology.yaml; every path is relative to it.
    public let root: URL
    public let topologyFile: String

    public init(topologyPath: String) {
        let url = URL(fileURLWithPath: topologyPath)
        root = url.deletingLastPathComponent()
        topologyFile = url.lastPathComponent
    }

    public struct Result: Sendable {
        /// Present when decoding got far enough to build a model; trust it only without errors.
        public var topology: Topology?
        public var diagnostics: [Diagnostic]

        public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    }

    /// Environment names found as `environments/<name>.yaml`, sorted.
    public func environments() -> [String] {
        let folder = root.appendingPathComponent("environments")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// Loads the base merged with `environments/<environment>.yaml`.
    public func load(environment: String) -> Result {
        let diagnostics = DiagnosticBag()
        let topology = load(environment: environment, into: diagnostics)
        return Result(topology: topology, diagnostics: diagnostics.sorted)
    }

    /// Loads the base merged with each environment in turn; diagnostics of all runs, without repeats.
    public func loadAll() -> Result {
        let diagnostics = DiagnosticBag()
        for environment in environments() { _ = load(environment: environment, into: diagnostics) }
        if environments().isEmpty {
            diagnostics.error("no environments found (expected environments/<name>.yaml)", at: SourceLocation(file: topologyFile, line: 1, column: 1))
        }
        return Result(topology: nil, diagnostics: diagnostics.sorted)
    }

    private func load(environment: String, into diagnostics: DiagnosticBag) -> Topology? {
        guard let base = read(topologyFile, into: diagnostics) else { return nil }
        if base.entries == nil {
            diagnostics.error("the topology must be a mapping, found \(base.kindName)", at: base.location)
            return nil
        }
        let overlayFile = "environments/\(environment).yaml"
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent(overlayFile).path) else {
            let known = environments()
            diagnostics.error(
                "no environment '\(environment)' (\(overlayFile) does not exist; known: \(known.joined(separator: ", ")))\(Suggestion.hint(for: environment, in: known))",
                at: SourceLocation(file: topologyFile, line: 1, column: 1)
            )
            return nil
        }
        guard let overlay = read(overlayFile, into: diagnostics) else { return nil }
        if overlay.entries == nil {
            diagnostics.error("an environment overlay must be a mapping, found \(overlay.kindName)", at: overlay.location)
            return nil
        }
        let merged = OverlayMerge.apply(overlay, to: base, diagnostics: diagnostics)
        guard let topology = TopologyDecoder(diagnostics: diagnostics).decode(merged, environment: environment) else { return nil }
        Validator.validate(topology, into: diagnostics)
        return topology
    }

    private func read(_ file: String, into diagnostics: DiagnosticBag) -> YAMLNode? {
        let start = SourceLocation(file: file, line: 1, column: 1)
        guard let data = FileManager.default.contents(atPath: root.appendingPathComponent(file).path) else {
            diagnostics.error("cannot read \(file)", at: start)
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            diagnostics.error("\(file) is not UTF-8 text", at: start)
            return nil
        }
        return YAMLLoader.load(text, file: file, into: diagnostics)
    }
}
