import Foundation
import SwapGenerators
import SwapTopology
import Testing

@Suite("WorkflowsRenderer")
struct WorkflowsRendererTests {
    private func workflows(_ environments: [Topology]) throws -> (ci: String, deploy: String) {
        let output = WorkflowsRenderer().render(environments)
        return (
            try ProjectRendererFixtures.file(output, ".github/workflows/ci.yml"),
            try ProjectRendererFixtures.file(output, ".github/workflows/deploy.yml")
        )
    }

    /// `- <item>` lines of the deploy matrix's product list.
    private func matrixProducts(_ deploy: String) -> [String] {
        let lines = deploy.split(separator: "\n").map(String.init)
        guard let start = lines.firstIndex(of: "        product:") else { return [] }
        return lines[(start + 1)...].prefix { $0.hasPrefix("          - ") }.map { String($0.dropFirst(12)) }
    }

    /// The lines of one job, from its key to the next job's.
    private func job(_ id: String, in workflow: String) -> String {
        var lines: [Substring] = []
        var inside = false
        for line in workflow.split(separator: "\n") {
            if line.hasPrefix("  ") && !line.hasPrefix("    ") && line.hasSuffix(":") && !line.hasPrefix("  #") {
                inside = line == "  \(id):"
            }
            if inside { lines.append(line) }
        }
        return lines.joined(separator: "\n")
    }

    private func scratch() throws -> URL {
        let (ci, deploy) = try workflows(Fixture.allEnvironments())
        return try ExternalTool.scratch([(".github/workflows/ci.yml", ci), (".github/workflows/deploy.yml", deploy)])
    }

    @Test func matchesGoldenFiles() throws {
        try Golden.check(WorkflowsRenderer().render(Fixture.allEnvironments()).files, name: "workflows")
    }

    @Test func passesActionlintWithShellcheck() throws {
        let shellcheck = try #require(ExternalTool.path("shellcheck"), "shellcheck is not installed: run script/bootstrap")
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ExternalTool.run(
            "actionlint",
            ["-shellcheck", shellcheck, ".github/workflows/ci.yml", ".github/workflows/deploy.yml"],
            in: folder
        )
        #expect(result.status == 0, "actionlint:\n\(result.output)")
    }

    @Test func matchesTheGitHubWorkflowSchema() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = [".github/workflows/ci.yml", ".github/workflows/deploy.yml"].map { folder.appendingPathComponent($0).path }
        let result = try ExternalTool.run("check-jsonschema", ["--builtin-schema", "vendor.github-workflows"] + files)
        #expect(result.status == 0, "check-jsonschema:\n\(result.output)")
    }

    @Test func pinsEveryActionToACommit() throws {
        let (ci, deploy) = try workflows(Fixture.allEnvironments())
        let uses = (ci + deploy).split(separator: "\n").filter { $0.contains("uses: ") }
        #expect(uses.count > 5)
        for line in uses {
            let reference = line.split(separator: "@").last.map(String.init) ?? ""
            let sha = reference.prefix { $0 != " " }
            #expect(sha.count == 40 && sha.allSatisfy(\.isHexDigit), "not pinned to a SHA: \(line)")
            #expect(reference.dropFirst(40).hasPrefix("  # v"), "no version comment: \(line)")
        }
    }

    @Test func ciBuildsTestsAndChecksDrift() throws {
        let (ci, _) = try workflows(Fixture.allEnvironments())
        #expect(ci.hasPrefix(GeneratedHeader.hash()))
        #expect(ci.contains("\npermissions: {}\n"))
        #expect(ci.contains("      contents: read\n"))
        #expect(!ci.contains("write"))
        #expect(ci.contains("  cancel-in-progress: true\n"))
        for command in ["swift build --build-tests", "run: script/test", "swift run swapctl generate --env all --check", "swift run swapctl validate"] {
            #expect(ci.contains(command), "ci.yml does not run \(command)")
        }
        #expect(ci.contains("container: swift:6."))
    }

    @Test func deployMatrixHasEveryEnabledProduct() throws {
        let environments = try Fixture.allEnvironments()
        let (_, deploy) = try workflows(environments)
        #expect(matrixProducts(deploy) == ProjectRendererFixtures.enabledProducts(environments))
        #expect(deploy.contains("images: ghcr.io/swap-platform/swap/${{ matrix.product }}"))
        #expect(deploy.contains("build-args: PRODUCT=${{ matrix.product }}"))
        #expect(deploy.contains("cache-from: type=gha,scope=${{ matrix.product }}"))
        #expect(deploy.contains("cache-to: type=gha,mode=max,scope=${{ matrix.product }}"))
        #expect(deploy.contains("type=sha,format=long"))
        #expect(deploy.contains("type=semver,pattern={{version}}"))
        #expect(deploy.contains("type=ref,event=branch"))
    }

    /// `docker stack deploy` fills `${NAME}` in stack.yml from the deploying
    /// shell: the deploy step of each Swarm environment must set every one.
    @Test func deployStepSetsEveryVariableTheStackReads() throws {
        let environments = try Fixture.allEnvironments()
        let (_, deploy) = try workflows(environments)
        for topology in environments where topology.target == .swarm {
            let stack = try ProjectRendererFixtures.file(SwarmStackRenderer().render(topology), "\(topology.environment)/stack.yml")
            let read = Set(stack.matches(of: /\$\{([A-Z][A-Z0-9_]*)/).map { String($0.output.1) })
            #expect(read.contains("SWAP_TAG"))
            let job = try #require(deploy.components(separatedBy: "\n  deploy-\(topology.environment):\n").dropFirst().first)
            let step = try #require(job.components(separatedBy: "- name: Deploy the \(topology.environment) stack\n").dropFirst().first)
            let env = step.components(separatedBy: "        run: ").first ?? ""
            for name in read.sorted() {
                #expect(env.contains("\n          \(name): "), "deploy-\(topology.environment) does not set \(name), which stack.yml reads")
            }
        }
        #expect(deploy.contains("BACKUP_S3_BUCKET: ${{ vars.BACKUP_S3_BUCKET }}"), "the bucket is a variable, not a secret")
    }

    @Test func aSeventhServiceJoinsTheMatrix() throws {
        let (_, deploy) = try workflows(ProjectRendererFixtures.withSeventhService())
        #expect(matrixProducts(deploy).contains("rewards-service"))
        #expect(matrixProducts(deploy).count == 7)
    }

    @Test func aServiceDisabledEverywhereLeavesTheMatrix() throws {
        let (_, deploy) = try workflows(ProjectRendererFixtures.withDisabled("map", product: "map-service"))
        #expect(!matrixProducts(deploy).contains("map-service"))
        #expect(matrixProducts(deploy).count == 5)
    }

    @Test func onlyTheImageJobMayWritePackages() throws {
        let (_, deploy) = try workflows(Fixture.allEnvironments())
        #expect(deploy.contains("\npermissions: {}\n"))
        #expect(deploy.components(separatedBy: "packages: write").count == 2)
        #expect(job("images", in: deploy).contains("packages: write"))
        #expect(job("images", in: deploy).contains("password: ${{ secrets.GITHUB_TOKEN }}"))
    }

    @Test func deploysStagingFromMainAndProdFromTags() throws {
        let (_, deploy) = try workflows(Fixture.allEnvironments())
        let staging = job("deploy-staging", in: deploy)
        let prod = job("deploy-prod", in: deploy)
        #expect(staging.contains("    if: github.ref == 'refs/heads/main'"))
        #expect(prod.contains("    if: startsWith(github.ref, 'refs/tags/v')"))
        for (name, text) in [("staging", staging), ("prod", prod)] {
            #expect(text.contains("    needs: images"))
            #expect(text.contains("      name: \(name)\n"), "\(name) is not a GitHub environment")
            #expect(text.contains("      group: deploy-\(name)\n      cancel-in-progress: false"))
            #expect(text.contains("run: |\n          generated/\(name)/scripts/deploy.sh\n"))
            #expect(text.contains("SWAP_TAG: sha-${{ github.sha }}"))
            #expect(text.contains("DOCKER_HOST: ssh://${{ secrets.SWARM_HOST }}"))
            #expect(text.contains("${{ secrets.SWARM_SSH_KEY }}"))
            #expect(text.contains("${{ secrets.SWARM_KNOWN_HOSTS }}"))
            #expect(text.contains("StrictHostKeyChecking yes"))
            // The Swarm keeps pulling after the job: never hand it GITHUB_TOKEN.
            #expect(!text.contains("GITHUB_TOKEN"))
            #expect(!text.contains("packages: write"))
        }
        #expect(prod.contains("url: https://api.swap.example.com"))
        #expect(deploy.contains("  # prod is a protected environment: add its required reviewers under\n"))
        #expect(!deploy.contains("deploy-dev") && !deploy.contains("deploy-local"))
    }
}
