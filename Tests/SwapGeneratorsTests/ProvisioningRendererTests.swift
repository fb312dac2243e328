import Foundation
import SwapGenerators
import SwapTopology
import Testing

@Suite("ProvisioningRenderer", .serialized, .timeLimit(.minutes(3)))
struct ProvisioningRendererTests {
    let renderer = ProvisioningRenderer()

    @Test func matchesGoldenFiles() throws {
        let output = OpsTestSupport.render(renderer, try Fixture.allEnvironments())
        try Golden.check(output.files, name: "provisioning")
    }

    @Test func onlySwarmEnvironmentsGetProvisioningFiles() throws {
        let output = OpsTestSupport.render(renderer, try Fixture.allEnvironments())
        #expect(output.files.map(\.path) == [
            "prod/provisioning/cloud-init-manager.yaml", "prod/provisioning/cloud-init-worker.yaml", "prod/provisioning/swarm-bootstrap.sh",
            "staging/provisioning/cloud-init-manager.yaml", "staging/provisioning/cloud-init-worker.yaml", "staging/provisioning/swarm-bootstrap.sh",
        ])
        #expect(output.notes.isEmpty, "\(output.notes)")
        #expect(GenerationPipeline.environmentRenderers.contains { $0 is ProvisioningRenderer })
    }

    @Test func cloudInitFilesPassCloudInitsSchema() throws {
        let output = OpsTestSupport.render(renderer, try Fixture.allEnvironments())
        let folder = try OpsTestSupport.scratch(output.files)
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = output.files.filter { $0.path.hasSuffix(".yaml") }
        #expect(files.count == 4)
        for file in files {
            #expect(file.contents.hasPrefix("#cloud-config\n# \(GeneratedHeader.text)\n"), "\(file.path)")
            let result = try ExternalTool.run("cloud-init", ["schema", "--config-file", file.path], in: folder)
            #expect(result.status == 0 && result.output.contains("Valid cloud-config"), "cloud-init schema \(file.path):\n\(result.output)")
        }
    }

    @Test func provisionScriptInsideCloudInitIsShellcheckClean() throws {
        let output = renderer.render(try Fixture.topology("prod"))
        for role in ["manager", "worker"] {
            let yaml = try OpsTestSupport.file(output, "prod/provisioning/cloud-init-\(role).yaml").contents
            let script = try #require(Self.blockContent(of: "/usr/local/sbin/swap-provision", in: yaml))
            #expect(script.hasPrefix("#!/usr/bin/env bash\n"))
            let folder = try ExternalTool.scratch([("swap-provision", script)])
            defer { try? FileManager.default.removeItem(at: folder) }
            let check = try ExternalTool.run("shellcheck", ["swap-provision"], in: folder)
            #expect(check.status == 0, "shellcheck swap-provision (\(role)):\n\(check.output)")
            #expect(try ExternalTool.run("bash", ["-n", "swap-provision"], in: folder).status == 0)
        }
    }

    @Test func cloudInitHardensTheDroplet() throws {
        let output = renderer.render(try Fixture.topology("prod"))
        for role in ["manager", "worker"] {
            let yaml = try OpsTestSupport.file(output, "prod/provisioning/cloud-init-\(role).yaml").contents
            #expect(yaml.contains("ROLE=\(role)\n"))
            // No invented key material: keys come from the droplet's metadata at boot.
            #expect(!yaml.contains("ssh-ed25519 AAAA") && !yaml.contains("ssh-rsa AAAA") && !yaml.contains("ssh_authorized_keys"))
            #expect(yaml.contains("cloud-init query v1.public_ssh_keys"))
            #expect(yaml.contains("ssh_pwauth: false") && yaml.contains("disable_root: true"))
            #expect(yaml.contains("PermitRootLogin no") && yaml.contains("PasswordAuthentication no"))
            #expect(yaml.contains("lock_passwd: true"))
            #expect(yaml.contains("usermod -aG docker \"$DEPLOY_USER\""))
            #expect(yaml.contains("https://download.docker.com/linux/$distro/gpg") && yaml.contains("9DC858229FC7DD38854AE2D88D81803C0EBFCD88"))
            for rule in ["ufw allow 22/tcp", "ufw allow 80/tcp", "ufw allow 443/tcp",
                         "ufw allow proto tcp from \"$VPC_SUBNET\" to any port 2377",
                         "ufw allow proto tcp from \"$VPC_SUBNET\" to any port 7946",
                         "ufw allow proto udp from \"$VPC_SUBNET\" to any port 7946",
                         "ufw allow proto udp from \"$VPC_SUBNET\" to any port 4789",
                         "ufw default deny incoming"] {
                #expect(yaml.contains(rule), "\(role): \(rule)")
            }
            #expect(yaml.contains("VPC_SUBNET=10.10.0.0/16"))
            #expect(yaml.contains("\"log-opts\": {\"max-size\": \"10m\", \"max-file\": \"3\"}"))
            #expect(yaml.contains("APT::Periodic::Unattended-Upgrade \"1\";"))
            #expect(yaml.contains("swap:\n  filename: /swapfile\n  size: 2G"))
        }
    }

    @Test func bootstrapScriptIsShellcheckCleanAndAnswersHelp() throws {
        let output = OpsTestSupport.render(renderer, try Fixture.allEnvironments())
        let folder = try OpsTestSupport.scratch(output.files)
        defer { try? FileManager.default.removeItem(at: folder) }
        for file in output.files where file.path.hasSuffix(".sh") {
            #expect(file.executable)
            #expect(file.contents.contains("\nset -euo pipefail\n"))
            let check = try ExternalTool.run("shellcheck", [file.path], in: folder)
            #expect(check.status == 0, "shellcheck \(file.path):\n\(check.output)")
            let help = try OpsTestSupport.runScript(folder.appendingPathComponent(file.path), ["--help"])
            #expect(help.status == 0 && help.output.hasPrefix("Usage: swarm-bootstrap.sh"), "\(help.output)")
            #expect(try OpsTestSupport.runScript(folder.appendingPathComponent(file.path), ["--bogus"]).status == 2)
        }
    }

    /// Every `node.labels.K == V` constraint of the real stack.yml is a label
    /// swarm-bootstrap.sh puts on some node, so no stateful task stays pending.
    @Test func bootstrapLabelsSatisfyEveryStackConstraint() throws {
        for environment in ["staging", "prod"] {
            let topology = try Fixture.topology(environment)
            let stack = try OpsTestSupport.file(SwarmStackRenderer().render(topology), "\(environment)/stack.yml").contents
            let constraints = Set(stack.split(separator: "\n").compactMap { line -> String? in
                let text = line.trimmingCharacters(in: .whitespaces)
                guard text.hasPrefix("- node.labels.") else { return nil }
                return String(text.dropFirst("- node.labels.".count)).replacingOccurrences(of: " == ", with: "=")
            })
            #expect(!constraints.isEmpty)
            let run = try FakeSwarm.run(topology, renderer: renderer)
            defer { run.cleanUp() }
            #expect(run.result.status == 0, "\(run.result.output)")
            let applied = Set(run.calls.filter { $0.contains(" node update ") }.flatMap { call in
                call.components(separatedBy: "--label-add ").dropFirst().map { $0.split(separator: " ")[0] }.map(String.init)
            })
            for constraint in constraints {
                #expect(applied.contains(constraint), "\(environment): stack.yml needs node.labels.\(constraint) but swarm-bootstrap.sh sets \(applied.sorted())")
            }
        }
    }

    @Test func bootstrapFormsTheSwarmAndCreatesSecretsWithoutEchoingThem() throws {
        let topology = try Fixture.topology("prod")
        let run = try FakeSwarm.run(topology, renderer: renderer)
        defer { run.cleanUp() }
        #expect(run.result.status == 0, "\(run.result.output)")
        let calls = run.calls
        #expect(calls.contains("-H ssh://deploy@m1 swarm init --advertise-addr eth1 --listen-addr eth1:2377"))
        #expect(calls.contains("-H ssh://deploy@m2 swarm join --token SWMTKN-manager-token --advertise-addr eth1 --listen-addr eth1:2377 vpc-m1:2377"))
        #expect(calls.contains("-H ssh://deploy@w2 swarm join --token SWMTKN-worker-token --advertise-addr eth1 --listen-addr eth1:2377 vpc-m1:2377"))
        // Data nodes: the workers first, then the first manager; one Kafka node each.
        #expect(calls.contains("-H ssh://deploy@m1 node update --label-add swap.data=true --label-add swap.data.events=1 id-w1"))
        #expect(calls.contains("-H ssh://deploy@m1 node update --label-add swap.data=true --label-add swap.data.events=2 id-w2"))
        #expect(calls.contains("-H ssh://deploy@m1 node update --label-add swap.data=true --label-add swap.data.events=3 id-m1"))
        for secret in ["jwt_secret", "database_url", "grafana_admin_password", "backup_s3_access_key", "backup_s3_secret_key"] {
            #expect(calls.contains("-H ssh://deploy@m1 secret create --label swap.environment=prod swap_\(secret) -"), "\(secret)")
            // The value went through stdin, intact.
            let received = try String(contentsOf: run.state.appendingPathComponent("secret-swap_\(secret)"), encoding: .utf8)
            #expect(received == FakeSwarm.value(of: secret))
            #expect(!run.result.output.contains(FakeSwarm.value(of: secret)) && !calls.joined().contains(FakeSwarm.value(of: secret)))
        }
        #expect(!run.result.output.contains("SWMTKN"), "join tokens are printed only with --print-join-commands")

        // A second run changes nothing that exists.
        let again = try run.rerun()
        #expect(again.status == 0, "\(again.output)")
        let second = run.calls.dropFirst(calls.count)
        #expect(!second.contains { $0.contains("swarm init") || $0.contains("swarm join --token") || $0.contains("secret create") }, "\(second)")
        #expect(again.output.contains("secret swap_jwt_secret exists: kept"))
    }

    @Test func bootstrapRefusesMissingSecretFilesBeforeTouchingAnything() throws {
        let run = try FakeSwarm.run(try Fixture.topology("prod"), renderer: renderer, omitSecret: "database_url")
        defer { run.cleanUp() }
        #expect(run.result.status == 1)
        #expect(run.result.output.contains("secret files missing or empty: ./secrets/database_url"), "\(run.result.output)")
        #expect(!run.calls.contains { $0.contains("swarm init") })
    }

    @Test func aSecondBrokerNodeCountChangesTheLabels() throws {
        var topology = try Fixture.topology("staging")
        topology.brokers[0].nodes = Located(2, at: topology.brokers[0].nodes.location)
        let script = try OpsTestSupport.file(renderer.render(topology), "staging/provisioning/swarm-bootstrap.sh").contents
        #expect(script.contains("BROKER_LABELS=(swap.data.events=2)"))
        #expect(script.contains("DATA_NODES_NEEDED=2"))
        let single = try OpsTestSupport.file(renderer.render(try Fixture.topology("staging")), "staging/provisioning/swarm-bootstrap.sh").contents
        #expect(single.contains("BROKER_LABELS=()") && single.contains("DATA_NODES_NEEDED=1"))
        #expect(single.contains("SECRETS=(db_password jwt_secret grafana_admin_password backup_s3_access_key backup_s3_secret_key)"))
    }

    /// The body of a `content: |` block written to `path` in cloud-init YAML.
    static func blockContent(of path: String, in yaml: String) -> String? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: "  - path: \(path)"),
              let content = lines[start...].firstIndex(where: { $0.hasPrefix("    content: |") }) else { return nil }
        var body: [String] = []
        for line in lines[(content + 1)...] {
            if line.isEmpty { body.append(""); continue }
            guard line.hasPrefix("      ") else { break }
            body.append(String(line.dropFirst(6)))
        }
        while body.last == "" { body.removeLast() }
        return body.joined(separator: "\n") + "\n"
    }
}

/// swarm-bootstrap.sh against a fake `docker` that keeps each node's Swarm
/// state in files and logs every call (never stdin).
struct FakeSwarm {
    let folder: URL
    let script: URL
    let environment: [String: String]
    var result: ExternalTool.Result
    var state: URL { folder.appendingPathComponent("state") }
    var calls: [String] {
        ((try? String(contentsOf: state.appendingPathComponent("calls.log"), encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    static func value(of secret: String) -> String { "value-of-\(secret)-\(secret.count * 7919)" }

    static func run(_ topology: Topology, renderer: ProvisioningRenderer, omitSecret: String? = nil) throws -> FakeSwarm {
        let output = renderer.render(topology)
        let folder = try OpsTestSupport.scratch(output.files)
        let state = folder.appendingPathComponent("state")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        let secrets = folder.appendingPathComponent("secrets")
        try FileManager.default.createDirectory(at: secrets, withIntermediateDirectories: true)
        let names = try #require(output.files.first { $0.path.hasSuffix("swarm-bootstrap.sh") }).contents
            .split(separator: "\n").first { $0.hasPrefix("SECRETS=(") }
            .map { $0.dropFirst("SECRETS=(".count).dropLast().split(separator: " ").map(String.init) } ?? []
        for name in names where name != omitSecret {
            try Data(value(of: name).utf8).write(to: secrets.appendingPathComponent(name))
        }
        try OpsTestSupport.fakeTool("docker", in: folder.appendingPathComponent("bin"), fakeDocker)
        let workers = topology.cluster.workers
        let environment = [
            "PATH": folder.appendingPathComponent("bin").path + ":" + OpsTestSupport.path,
            "FAKE_STATE": state.path,
            "MANAGERS": (1...max(1, topology.cluster.managers)).map { "m\($0)" }.joined(separator: " "),
            "WORKERS": workers == 0 ? "" : (1...workers).map { "w\($0)" }.joined(separator: " "),
        ]
        let script = folder.appendingPathComponent("\(topology.environment)/provisioning/swarm-bootstrap.sh")
        let result = try ExternalTool.run("bash", [script.path], in: folder, environment: environment)
        return FakeSwarm(folder: folder, script: script, environment: environment, result: result)
    }

    func rerun() throws -> ExternalTool.Result {
        try ExternalTool.run("bash", [script.path], in: folder, environment: environment)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: folder) }

    private static let fakeDocker = #"""
    set -euo pipefail
    [ "$1" = -H ] || { echo "fake docker: expected -H" >&2; exit 64; }
    node="${2#ssh://deploy@}"
    shift 2
    printf -- '-H ssh://deploy@%s %s\n' "$node" "$*" >>"$FAKE_STATE/calls.log"
    state_file="$FAKE_STATE/$node.state"
    case "$1 $2" in
        "info --format")
            case "$3" in
                *LocalNodeState*) cat "$state_file" 2>/dev/null || echo inactive ;;
                *NodeAddr*) echo "vpc-$node" ;;
                *NodeID*) echo "id-$node" ;;
            esac ;;
        "swarm init") echo active >"$state_file" ;;
        "swarm join") echo active >"$state_file" ;;
        "swarm join-token") echo "SWMTKN-$4-token" ;;
        "secret ls") cat "$FAKE_STATE/secrets" 2>/dev/null || true ;;
        "secret create")
            name="${*: -2:1}"
            cat >"$FAKE_STATE/secret-$name"
            echo "$name" >>"$FAKE_STATE/secrets"
            echo "id-of-$name" ;;
        "node update") echo "${*: -1}" ;;
        "node ls") echo "ID HOSTNAME STATUS" ;;
        *) echo "fake docker: unexpected $*" >&2; exit 64 ;;
    esac
    """#
}
