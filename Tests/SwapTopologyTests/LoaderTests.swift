import Foundation
import Foundation
import SwapTopology
import Testing

@Suite("Loading YAML never crashes and always says where")
struct LoaderTests {
    @Test func minimalTopologyIsValid() throws {
        let result = try Scratch(topology: Minimal.text).load()
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let topology = try #require(result.topology)
        #expect(topology.services.map(\.name) == ["gateway", "financial"])
        #expect(topology.servicesInStartOrder.map(\.name) == ["financial", "gateway"])
    }

    @Test func emptyFileIsAnError() throws {
        #expect(try Scratch.diagnostics("") == ["topology.yaml:1:1: error: file is empty; expected a mapping"])
    }

    @Test func nonYAMLIsAnErrorWithPosition() throws {
        let diagnostics = try Scratch.diagnostics("version: 1\nservices: [unclosed\n")
        #expect(diagnostics.count == 1)
        #expect(diagnostics[0].hasPrefix("topology.yaml:3:1: error: invalid YAML"))
    }

    @Test func binaryAndScalarDocumentsAreErrors() throws {
        #expect(try Scratch.diagnostics("just a string\n") == ["topology.yaml:1:1: error: the topology must be a mapping, found a scalar"])
        let garbage = String(decoding: (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 37) }, as: UTF8.self)
        let diagnostics = try Scratch.diagnostics(garbage)
        #expect(!diagnostics.isEmpty)
        #expect(diagnostics.allSatisfy { $0.hasPrefix("topology.yaml:") && $0.contains(": error: ") })
    }

    @Test func hugeNumbersAreReportedNotTrapped() throws {
        let text = Minimal.replacing(line: 6, with: "    port: 99999999999999999999999999")
        #expect(try Scratch.diagnostics(text) == ["topology.yaml:6:11: error: port 99999999999999999999999999 is out of range"])
    }

    @Test func deepNestingIsRefused() throws {
        let deep = "version: 1\nproject: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n"
        let diagnostics = try Scratch.diagnostics(deep)
        #expect(diagnostics == ["topology.yaml:2:74: error: nesting deeper than 64 levels"])
        let dashes = "version: 1\nproject: swap\nservices:\n" + String(repeating: "- ", count: 10_000) + "x\n"
        #expect(try Scratch.diagnostics(dashes).first?.contains("nesting deeper than 64 levels") == true)
    }

    @Test func aliasBombIsRefused() throws {
        var text = "version: 1\nproject: swap\nbomb:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            text += "  a\(level): &a\(level) [\(refs)]\n"
        }
        let diagnostics = try Scratch.diagnostics(text)
        #expect(diagnostics.contains { $0.contains("expands to more than") })
    }

    @Test func anchorsAliasesAndMergeKeysWork() throws {
        let text = Minimal.text.replacingOccurrences(of: "  gateway:\n    product: gateway\n", with: "  gateway:\n    <<: *common\n    product: gateway\n")
            .replacingOccurrences(of: "services:\n", with: "x-common: &common {replicas: 2}\nservices:\n")
        let result = try Scratch(topology: text).load()
        // x-common is not a topology key: reported, the anchor still expands.
        #expect(result.diagnostics.map(\.description) == ["topology.yaml:3:1: error: unknown key 'x-common' in the topology"])
        #expect(result.topology?.service(named: "gateway")?.replicas.value == 2)
    }

    @Test func duplicateKeysAreReportedWithTheFirst() throws {
        let text = Minimal.replacing(line: 7, with: "    port: 3001")
        #expect(try Scratch.diagnostics(text) == ["topology.yaml:7:5: error: duplicate key 'port' (topology.yaml:6:5)"])
    }

    @Test func everyProblemInOneRun() throws {
        var text = Minimal.replacing(line: 6, with: "    port: seventy")
        text = text.replacingOccurrences(of: "    uses: [cache]", with: "    usse: [cache]")
        text = text.replacingOccurrences(of: "persistence: aof", with: "persistence: sometimes")
        let diagnostics = try Scratch.diagnostics(text)
        #expect(diagnostics.contains("topology.yaml:6:11: error: port must be an integer, found 'seventy'"))
        #expect(diagnostics.contains("topology.yaml:9:5: error: unknown key 'usse' in service 'gateway'; did you mean 'uses'?"))
        #expect(diagnostics.contains("topology.yaml:19:39: error: datastore 'cache' persistence 'sometimes' must be one of aof, rdb, none"))
    }

    @Test func missingEnvironmentIsNamed() throws {
        let diagnostics = try Scratch.diagnostics(Minimal.text, environment: "tset")
        #expect(diagnostics == ["topology.yaml:1:1: error: no environment 'tset' (environments/tset.yaml does not exist; known: test); did you mean 'test'?"])
    }
}
