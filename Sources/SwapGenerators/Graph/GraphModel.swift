import SwapTopology

/// The service graph of one environment, independent of how it is drawn:
/// the ingress, enabled services, datastores, brokers and topics, and the
/// routes, dependencies, uses, produces and consumes between them.
struct GraphModel {
    enum Kind: CaseIterable {
        case ingress, service, topic, datastore, broker

        var fill: String {
            switch self {
            case .ingress: "#e0e7ff"
            case .service: "#dbeafe"
            case .topic: "#ecfccb"
            case .datastore: "#fef3c7"
            case .broker: "#fce7f3"
            }
        }
    }

    struct Node {
        var id: String
        var kind: Kind
        /// The first line is the name; the others describe it.
        var lines: [String]
    }

    enum EdgeKind: CaseIterable {
        case route, dependsOn, uses, produces, consumes, hosts

        var caption: String {
            switch self {
            case .route: "routes"
            case .dependsOn: "depends on"
            case .uses: "uses"
            case .produces: "produces"
            case .consumes: "consumes"
            case .hosts: "topic on broker"
            }
        }

        var color: String {
            switch self {
            case .route: "#2563eb"
            case .dependsOn: "#111827"
            case .uses: "#6b7280"
            case .produces: "#16a34a"
            case .consumes: "#ea580c"
            case .hosts: "#9ca3af"
            }
        }

        /// SVG `stroke-dasharray`, nil for a solid line.
        var dashes: String? {
            switch self {
            case .uses: "6 4"
            case .hosts: "2 3"
            default: nil
            }
        }
    }

    struct Edge {
        var from: String
        var to: String
        var kind: EdgeKind
        var label: String
    }

    var title: String
    var nodes: [Node] = []
    var edges: [Edge] = []
    /// Layout column of each node: ingress, services by dependency depth, topics, datastores and brokers.
    var columns: [String: Int] = [:]

    init(_ topology: Topology) {
        title = "\(topology.project) (\(topology.environment))"
        var ids = IdentifierTable()
        let ingressID = ids.make("ingress")
        let services = topology.services
        let serviceIDs = ids.make("svc", services.map(\.name))
        let topicIDs = ids.make("topic", topology.topics.map(\.topic.name))
        let datastoreIDs = ids.make("ds", topology.datastores.map(\.name))
        let brokerIDs = ids.make("broker", topology.brokers.map(\.name))

        let ingress = topology.ingress
        nodes.append(Node(id: ingressID, kind: .ingress, lines: [
            "ingress (nginx)", ingress.domain ?? "no domain", "tls \(ingress.tls.rawValue), \(Self.count(ingress.replicas, "replica"))",
        ]))
        for service in services {
            nodes.append(Node(id: serviceIDs[service.name]!, kind: .service, lines: [
                service.name, "port \(service.port.value), \(Self.count(service.replicas.value, "replica"))",
            ]))
        }
        var drawnTopics = Set<String>()
        for (broker, topic) in topology.topics where drawnTopics.insert(topic.name).inserted {
            var details = "\(Self.count(topic.partitions, "partition")), rf \(topic.replication.value)"
            if let retention = topic.retention { details += ", \(retention.text)" }
            nodes.append(Node(id: topicIDs[topic.name]!, kind: .topic, lines: [topic.name, details]))
            edges.append(Edge(from: topicIDs[topic.name]!, to: brokerIDs[broker.name]!, kind: .hosts, label: ""))
        }
        for datastore in topology.datastores {
            let version = "\(datastore.engine.rawValue) \(datastore.version)" + (datastore.managed ? ", managed" : "")
            nodes.append(Node(id: datastoreIDs[datastore.name]!, kind: .datastore, lines: [datastore.name, version]))
        }
        for broker in topology.brokers {
            nodes.append(Node(id: brokerIDs[broker.name]!, kind: .broker, lines: [
                broker.name, "kafka, \(Self.count(broker.nodes.value, "node"))",
            ]))
        }

        for service in services {
            let id = serviceIDs[service.name]!
            if !service.routes.isEmpty {
                let paths = service.routes.map { $0.path.value + ($0.websocket ? " (ws)" : "") }
                edges.append(Edge(from: ingressID, to: id, kind: .route, label: paths.joined(separator: ", ")))
            }
            for dependency in service.dependsOn {
                guard let target = serviceIDs[dependency.value] else { continue }
                edges.append(Edge(from: id, to: target, kind: .dependsOn, label: "depends on"))
            }
            for used in service.uses {
                guard let target = datastoreIDs[used.value] ?? brokerIDs[used.value] else { continue }
                edges.append(Edge(from: id, to: target, kind: .uses, label: "uses"))
            }
            for topic in service.produces {
                guard let target = topicIDs[topic.value] else { continue }
                edges.append(Edge(from: id, to: target, kind: .produces, label: "produces"))
            }
            for topic in service.consumes {
                guard let source = topicIDs[topic.value] else { continue }
                edges.append(Edge(from: source, to: id, kind: .consumes, label: "consumes"))
            }
        }

        let depth = Self.dependencyDepth(services)
        let lastServiceColumn = 1 + (depth.values.max() ?? 0)
        let topicColumn = lastServiceColumn + (topology.topics.isEmpty ? 0 : 1)
        columns[ingressID] = 0
        for service in services { columns[serviceIDs[service.name]!] = 1 + (depth[service.name] ?? 0) }
        for id in topicIDs.values { columns[id] = topicColumn }
        for id in datastoreIDs.values { columns[id] = topicColumn + 1 }
        for id in brokerIDs.values { columns[id] = topicColumn + 1 }
    }

    func node(_ id: String) -> Node? { nodeIndex[id].map { nodes[$0] } }

    /// Node positions by id, for lookups while drawing edges.
    var nodeIndex: [String: Int] {
        Dictionary(nodes.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { first, _ in first })
    }

    /// 0 for a service no other service depends on, else one more than its deepest dependent.
    static func dependencyDepth(_ services: [Service]) -> [String: Int] {
        let names = Set(services.map(\.name))
        var dependents: [String: [String]] = [:]
        for service in services {
            for dependency in service.dependsOn where names.contains(dependency.value) {
                dependents[dependency.value, default: []].append(service.name)
            }
        }
        var depth: [String: Int] = [:]
        var visiting = Set<String>()
        func resolve(_ name: String) -> Int {
            if let known = depth[name] { return known }
            visiting.insert(name)
            let above = (dependents[name] ?? []).filter { !visiting.contains($0) }
            let value = above.map { resolve($0) + 1 }.max() ?? 0
            visiting.remove(name)
            depth[name] = value
            return value
        }
        for service in services { _ = resolve(service.name) }
        return depth
    }

    private static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
}

/// Node identifiers safe in Mermaid and DOT: `<prefix>_<name>` with every
/// character but letters and digits turned into `_`, numbered when two collide.
struct IdentifierTable {
    private var used: Set<String> = []

    /// One identifier per distinct name (the first wins if a name repeats).
    mutating func make(_ prefix: String, _ names: [String]) -> [String: String] {
        var ids: [String: String] = [:]
        for name in names where ids[name] == nil {
            ids[name] = make(prefix + "_" + name.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? String($0) : "_" }.joined())
        }
        return ids
    }

    mutating func make(_ base: String) -> String {
        var id = base
        var suffix = 2
        while used.contains(id) {
            id = "\(base)_\(suffix)"
            suffix += 1
        }
        used.insert(id)
        return id
    }
}
