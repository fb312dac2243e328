import Foundation
import SwapTopology

/// `swift build --product P` for every product `up` will run (products with
/// a command override are skipped), output shown as it comes.
public enum ProductBuilder {
    /// The products to build for a topology, in start order, without repeats.
    public static func products(for topology: Topology, configuration: HarnessConfiguration) -> [String] {
        guard !configuration.infrastructureOnly else { return [] }
        var seen = Set<String>()
        return topology.servicesInStartOrder.map(\.product).filter { product in
            configuration.command(forProduct: product) == nil && seen.insert(product).inserted
        }
    }

    public static func build(_ products: [String], in root: URL, announce: (String) -> Void = { print($0) }) async throws {
        guard !products.isEmpty else { return }
        let swift = try HostTools.require("swift", hint: "the Swift toolchain")
        for product in products {
            announce("==> swift build --product \(product)")
            do {
                try await HelperCommand.runInheritingOutput([swift, "build", "--product", product], in: root)
            } catch {
                throw HarnessError.unsupported("building \(product) failed (`swift build --product \(product)` above); fix it, or run `swapctl up --no-build` with what is built")
            }
        }
    }
}
