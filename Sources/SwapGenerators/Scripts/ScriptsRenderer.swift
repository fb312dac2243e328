import SwapTopology

/// Operations scripts of an environment: deploy.sh and monitor.sh for Swarm,
/// backup.sh and restore.sh wherever a PostgreSQL datastore asks for backups.
/// Defaults come from the topology; no secret value is ever written.
public struct ScriptsRenderer: EnvironmentRenderer {
    public init() {}

    public var targets: Set<DeploymentTarget> { [.compose, .swarm] }

    public func render(_ topology: Topology) -> RenderOutput {
        let facts = StackFacts(topology: topology)
        var output = RenderOutput()
        func add(_ name: String, _ contents: String) {
            output.files.append(GeneratedFile(path: "\(topology.environment)/scripts/\(name)", contents: contents, executable: true))
        }
        if topology.target == .swarm {
            add("deploy.sh", DeployScript.render(facts))
            add("monitor.sh", MonitorScript.render(facts))
        }
        let databases = facts.backedUpDatabases
        if let database = databases.first {
            let defaults = DatabaseDefaults(topology: topology, database: database)
            add("backup.sh", BackupScript.render(defaults))
            add("restore.sh", RestoreScript.render(defaults))
        }
        if databases.count > 1 {
            output.notes.append(GenerationNote(
                environment: topology.environment,
                message: "backup.sh covers datastore '\(databases[0].name)' only; "
                    + databases.dropFirst().map { "'\($0.name)'" }.joined(separator: ", ")
                    + " also ask for backups: run the script with PGHOST/PGDATABASE pointed at them"
            ))
        }
        return output
    }
}
