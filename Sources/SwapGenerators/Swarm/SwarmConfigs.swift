import SwapTopology

/// Swarm configs are immutable: `docker stack deploy` refuses to change the
/// contents of an existing one. So each config's name carries a digest of the
/// file it is made from, and a changed file deploys as a new config. The
/// digest comes from rendering that file with its own (pure) renderer.
struct SwarmConfigs {
    struct Config {
        var key: String
        var file: String
        var name: String
    }

    let topology: Topology
    private let contents: [String: String]
    private(set) var configs: [Config] = []

    init(topology: Topology) {
        self.topology = topology
        var contents: [String: String] = [:]
        let renderers: [any EnvironmentRenderer] = [NginxRenderer(), MonitoringRenderer(), ScriptsRenderer(), KafkaTopicsRenderer()]
        for renderer in renderers where renderer.targets.contains(topology.target) {
            for file in renderer.render(topology).files { contents[file.path] = file.contents }
        }
        self.contents = contents
    }

    /// Declares the config for a file beside the stack (`./monitoring/...`) and
    /// returns its key for a service's `configs:` entry.
    mutating func config(_ key: String, file: String) -> String {
        if !configs.contains(where: { $0.key == key }) {
            let relative = file.hasPrefix("./") ? String(file.dropFirst(2)) : file
            let text = contents["\(topology.environment)/\(relative)"] ?? ""
            configs.append(Config(key: key, file: file, name: "\(topology.project)_\(key)_\(Self.digest(text))"))
        }
        return key
    }

    /// A service's `configs:` entry: the config mounted read-only at `target`.
    mutating func mount(_ key: String, file: String, at target: String) -> YAMLValue {
        .map([("source", .string(config(key, file: file))), ("target", .string(target))])
    }

    var topLevel: YAMLValue? {
        configs.isEmpty ? nil : .map(configs.map { config in
            (config.key, .map([("name", .string(config.name)), ("file", .string(config.file))]))
        })
    }

    /// 12 hex digits of FNV-1a: short enough for Docker's 64-character names.
    static func digest(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String((String(repeating: "0", count: 16 - hex.count) + hex).prefix(12))
    }
}
