import Foundation
import LocalServers
import SwapGenerators
import SwapTopology

/// What the planners share: ports picked, where things live, who is who.
struct PlanContext: Sendable {
    var configuration: HarnessConfiguration
    var layout: StateLayout
    var addresses: Addresses
    /// Names of the datastore and broker components.
    var infrastructure: Set<String>
    /// Component names of each service's replicas.
    var replicaNames: [String: [String]]
    /// Replica ports of each routed service, for nginx's upstreams.
    var servicePorts: [String: [Int]]
}

/// The components of one run in start order (datastores and brokers, services
/// in `servicesInStartOrder`, nginx) with free loopback ports picked now.
struct StackPlan: Sendable {
    var components: [ComponentSpec]
    var urls: StackURLs
    /// Secrets some running component reads.
    var secretsNeeded: Set<String>

    static func make(topology: Topology, configuration: HarnessConfiguration, layout: StateLayout) throws -> StackPlan {
        let datastores = topology.datastores.filter { !$0.managed }
        let services = configuration.infrastructureOnly ? [] : topology.servicesInStartOrder
        let replicaCounts = services.map { max(1, $0.replicas.value) }
        let needed = datastores.count + topology.brokers.count + replicaCounts.reduce(0, +) + 3
        var free = try FreePort.next(needed)
        func take() -> Int { free.removeFirst() }

        var datastorePorts: [String: Int] = [:]
        for datastore in datastores { datastorePorts[datastore.name] = take() }
        var brokerPorts: [String: Int] = [:]
        for broker in topology.brokers { brokerPorts[broker.name] = take() }
        var servicePorts: [String: [Int]] = [:]
        var replicaNames: [String: [String]] = [:]
        for (service, count) in zip(services, replicaCounts) {
            servicePorts[service.name] = (0..<count).map { _ in take() }
            replicaNames[service.name] = count > 1 ? (1...count).map { "\(service.name).\($0)" } : [service.name]
        }
        let httpPort = take()
        let httpsPort = take()
        // Without services nginx still needs upstreams: a free port nothing listens on (502 fast).
        let nowhere = take()
        var edgePorts = servicePorts.filter { name, _ in topology.service(named: name)?.routes.isEmpty == false }
        for service in topology.services where !service.routes.isEmpty && edgePorts[service.name] == nil {
            edgePorts[service.name] = [nowhere]
        }

        let secretsFolder = layout.secrets
        let frozenDatastorePorts = datastorePorts, frozenBrokerPorts = brokerPorts, frozenServicePorts = servicePorts
        // Peers by address: the first replica stands for a replicated upstream
        // (one URL per upstream is the contract; nginx balances the public routes).
        let addresses = Addresses(
            service: { "127.0.0.1:\(frozenServicePorts[$0.name]?.first ?? $0.port.value)" },
            datastore: { "127.0.0.1:\(frozenDatastorePorts[$0.name] ?? $0.standardPort)" },
            broker: { ["127.0.0.1:\(frozenBrokerPorts[$0.name] ?? KafkaNaming.clientPort)"] },
            secretFile: { secretsFolder.appendingPathComponent($0).path }
        )
        let infrastructure = Set(datastores.map(\.name) + topology.brokers.map(\.name))
        let context = PlanContext(
            configuration: configuration, layout: layout, addresses: addresses, infrastructure: infrastructure,
            replicaNames: replicaNames, servicePorts: edgePorts
        )

        var components: [ComponentSpec] = []
        for datastore in datastores {
            let port = datastorePorts[datastore.name]!
            switch datastore.engine {
            case .postgres: components.append(try InfrastructureComponents.postgres(datastore, port: port, topology: topology, context: context))
            case .redis: components.append(try InfrastructureComponents.redis(datastore, port: port, context: context))
            }
        }
        for broker in topology.brokers {
            components.append(try InfrastructureComponents.kafka(broker, port: brokerPorts[broker.name]!, topology: topology, context: context))
        }
        for service in services {
            components += try ServiceComponents.replicas(of: service, ports: servicePorts[service.name]!, topology: topology, context: context)
        }
        components.append(try NginxComponent.make(topology: topology, httpPort: httpPort, httpsPort: httpsPort, context: context))
        try checkUniqueNames(components)

        var secrets = Set(services.flatMap { $0.secrets.map(\.value) })
        if datastores.contains(where: { $0.engine == .postgres }) { secrets.insert(InfrastructureSecrets.databasePassword) }
        for datastore in topology.datastores where datastore.managed {
            if let url = datastore.urlSecret, services.contains(where: { $0.uses.contains { $0.value == datastore.name } }) {
                secrets.insert(url.value)
            }
        }
        let tls = topology.ingress.tls != .none
        let urls = StackURLs(
            https: tls ? "https://localhost:\(httpsPort)" : nil,
            http: "http://localhost:\(httpPort)",
            caFile: tls ? LocalCA(folder: configuration.caFolder).certificateFile.path : nil
        )
        return StackPlan(components: components, urls: urls, secretsNeeded: secrets)
    }

    private static func checkUniqueNames(_ components: [ComponentSpec]) throws {
        var seen: [String: ComponentKind] = [:]
        for component in components {
            if let other = seen[component.name] {
                throw HarnessError.unsupported(
                    "two components are named '\(component.name)' (a \(other.rawValue) and a \(component.kind.rawValue)); rename one in topology.yaml"
                )
            }
            seen[component.name] = component.kind
        }
    }
}
