import SwapTopology

/// What the project-wide files (Dockerfile, deploy workflow) build: one image
/// per SwiftPM product of a service enabled in at least one environment.
enum ServiceImages {
    /// The Swift toolchain of the build stage and of CI. The official images
    /// come as `<version>-noble` (Ubuntu 24.04, librdkafka 2.3.0) and
    /// `<version>-bookworm` (Debian 12, what script/bootstrap expects).
    static let swiftVersion = "6.3"
    static var buildImage: String { "swift:\(swiftVersion)-noble" }
    static var ciImage: String { "swift:\(swiftVersion)-bookworm" }
    static let runtimeImage = "ubuntu:noble"

    /// The Dockerfile's path from the repository root (the build context).
    static let dockerfilePath = "generated/docker/Dockerfile"

    struct Product: Equatable {
        var name: String
        /// The services it runs, in file order.
        var services: [String]
    }

    /// Products in service file order, each once, enabled somewhere.
    static func products(_ environments: [Topology]) -> [Product] {
        var products: [Product] = []
        for service in serviceOrder(environments) {
            let enabled = environments.compactMap { $0.service(named: service) }.filter(\.enabled)
            guard let product = enabled.first?.product else { continue }
            if let index = products.firstIndex(where: { $0.name == product }) {
                products[index].services.append(service)
            } else {
                products.append(Product(name: product, services: [service]))
            }
        }
        return products
    }

    /// Service names in file order across every environment.
    private static func serviceOrder(_ environments: [Topology]) -> [String] {
        var names: [String] = []
        for topology in environments {
            for service in topology.allServices where !names.contains(service.name) { names.append(service.name) }
        }
        return names
    }

    /// The image registry (`ghcr.io/owner/project`), lowercased: OCI references must be.
    static func registry(_ environments: [Topology]) -> String {
        (environments.first { $0.environment == "prod" } ?? environments.first)?.registry.lowercased() ?? ""
    }

    /// The registry's host, what `docker login` needs (`ghcr.io`).
    static func registryHost(_ registry: String) -> String {
        String(registry.split(separator: "/", maxSplits: 1).first ?? Substring(registry))
    }
}
