import SwapTopology

/// What the scripts bake in from the topology: stack name, services,
/// the secrets a deployment needs, the database to back up.
struct StackFacts {
    var topology: Topology

    /// `docker stack deploy ... <stack>`: the project name.
    var stack: String { topology.project }

    /// Enabled services in start order; in Swarm they are `<stack>_<service>`.
    var services: [String] { topology.servicesInStartOrder.map(\.name) }

    /// The PostgreSQL datastores that ask for backups, in file order.
    var backedUpDatabases: [Datastore] {
        topology.datastores.filter { $0.engine == .postgres && $0.backup != nil }
    }

    /// The brokers with topics: deploy.sh runs kafka/create-topics.sh for them.
    var brokers: [Broker] { topology.brokers.filter { !$0.topics.isEmpty } }
}
