/// The semantic rules of DESIGN.md, run on a decoded topology. Each rule
/// reports into the bag and never stops the others, so one run lists every problem.
public enum Validator {
    public static func validate(_ topology: Topology, into diagnostics: DiagnosticBag) {
        let rules: [(Topology, DiagnosticBag) -> Void] = [
            uniquePorts, uniqueRoutes, uniqueAPIPrefixes, references, dependencies, cycles,
            brokers, websockets, ingress, datastores, usage,
        ]
        for rule in rules { rule(topology, diagnostics) }
    }
}
