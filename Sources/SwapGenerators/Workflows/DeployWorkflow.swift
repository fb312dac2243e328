import SwapTopology

/// `.github/workflows/deploy.yml`: one image per service product pushed to
/// the registry, then each Swarm environment deployed over SSH by its
/// generated `scripts/deploy.sh`, by the immutable `sha-<commit>` tag.
enum DeployWorkflow {
    /// A Swarm environment and the event that deploys it.
    struct Target {
        var topology: Topology
        /// Production is deployed from release tags, the others from main.
        var fromTags: Bool

        var name: String { topology.environment }
        var jobID: String { "deploy-\(name)" }
        var condition: String { fromTags ? "startsWith(github.ref, 'refs/tags/v')" : "github.ref == 'refs/heads/main'" }
    }

    static let productionNames: Set<String> = ["prod", "production"]

    static func targets(_ environments: [Topology]) -> [Target] {
        environments.filter { $0.target == .swarm }
            .map { Target(topology: $0, fromTags: productionNames.contains($0.environment)) }
            .sorted { ($0.fromTags ? 1 : 0, $0.name) < ($1.fromTags ? 1 : 0, $1.name) }
    }

    static func render(_ environments: [Topology]) -> String {
        let products = ServiceImages.products(environments).map(\.name)
        let registry = ServiceImages.registry(environments)
        let targets = targets(environments)
        var jobs: [(String, YAMLValue)] = [("images", imagesJob(products: products, registry: registry))]
        for target in targets { jobs.append((target.jobID, deployJob(target, registry: registry))) }
        let workflow: YAMLValue = .map([
            ("name", .string("Deploy")),
            ("on", .map([
                ("push", .map([
                    ("branches", .strings(["main"])),
                    ("tags", .strings(["v*"])),
                ])),
            ])),
            ("permissions", .map([])),
            ("jobs", .map(jobs)),
        ])
        var text = header(targets, registry: registry) + workflow.render()
        for target in targets where target.fromTags {
            text = WorkflowText.comment([
                "\(target.name) is a protected environment: add its required reviewers under",
                "Settings > Environments > \(target.name) (a workflow cannot declare them). The job",
                "waits for one approval before it receives the environment's secrets.",
            ], above: "  \(target.jobID):", in: text)
        }
        return WorkflowText.pinComments(text)
    }

    private static func header(_ targets: [Target], registry: String) -> String {
        let triggers = targets.map { "#   \($0.name): \($0.fromTags ? "on a v* tag" : "on every push to main")" }
        return GeneratedHeader.hash() + """
            #
            # Images: \(registry)/<product>, tagged sha-<commit>, <branch> and the
            # release version; deployments use the immutable sha-<commit> tag.
            # Deployments (each a GitHub environment, one at a time, never cancelled):
            \(triggers.joined(separator: "\n"))
            # Secrets of each environment:
            #   SWARM_HOST           user@host[:port] of a Swarm manager (the user may run docker)
            #   SWARM_SSH_KEY        that user's private key
            #   SWARM_KNOWN_HOSTS    the manager's pinned known_hosts line(s)
            #   REGISTRY_USERNAME    an account that can read the images
            #   REGISTRY_READ_TOKEN  its long-lived read:packages token; the Swarm pulls with it
            #                        (GITHUB_TOKEN expires with the job)

            """ + offSiteVariables(targets)
    }

    /// Plain variables, not secrets: they name where dumps go, not how to get in.
    private static func offSiteVariables(_ targets: [Target]) -> String {
        let names = targets.filter(\.topology.uploadsBackupsOffSite).map(\.name)
        guard !names.isEmpty else { return "" }
        return """
            # Variables of \(names.joined(separator: ", ")) (off-site database backups; unset keeps them on the node):
            #   BACKUP_S3_BUCKET     the Spaces/S3 bucket of the dumps
            #   BACKUP_S3_ENDPOINT   its endpoint, e.g. https://fra1.digitaloceanspaces.com

            """
    }

    private static func imagesJob(products: [String], registry: String) -> YAMLValue {
        .map([
            ("name", .string("Image ${{ matrix.product }}")),
            ("runs-on", .string("ubuntu-24.04")),
            ("timeout-minutes", .int(60)),
            ("permissions", .map([
                ("contents", .string("read")),
                ("packages", .string("write")),
            ])),
            ("strategy", .map([
                ("fail-fast", .bool(false)),
                ("matrix", .map([("product", .strings(products))])),
            ])),
            ("steps", .list([
                .map([
                    ("uses", .string(PinnedAction.checkout.uses)),
                    ("with", .map([("persist-credentials", .bool(false))])),
                ]),
                .map([
                    ("name", .string("Set up Buildx (the gha cache needs it)")),
                    ("uses", .string(PinnedAction.setupBuildx.uses)),
                ]),
                .map([
                    ("name", .string("Log in to \(ServiceImages.registryHost(registry))")),
                    ("uses", .string(PinnedAction.login.uses)),
                    ("with", .map([
                        ("registry", .string(ServiceImages.registryHost(registry))),
                        ("username", .string("${{ github.actor }}")),
                        ("password", .string("${{ secrets.GITHUB_TOKEN }}")),
                    ])),
                ]),
                .map([
                    ("name", .string("Image tags and labels")),
                    ("id", .string("meta")),
                    ("uses", .string(PinnedAction.metadata.uses)),
                    ("with", .map([
                        ("images", .string("\(registry)/${{ matrix.product }}")),
                        ("tags", .block("""
                            type=sha,format=long
                            type=ref,event=branch
                            type=semver,pattern={{version}}
                            type=semver,pattern={{major}}.{{minor}}

                            """)),
                        ("flavor", .string("latest=false")),
                    ])),
                ]),
                .map([
                    ("name", .string("Build and push")),
                    ("uses", .string(PinnedAction.buildPush.uses)),
                    ("with", .map([
                        ("context", .string(".")),
                        ("file", .string(ServiceImages.dockerfilePath)),
                        ("build-args", .string("PRODUCT=${{ matrix.product }}")),
                        ("push", .bool(true)),
                        ("tags", .string("${{ steps.meta.outputs.tags }}")),
                        ("labels", .string("${{ steps.meta.outputs.labels }}")),
                        // One cache scope per product, or parallel builds overwrite each other's.
                        ("cache-from", .string("type=gha,scope=${{ matrix.product }}")),
                        ("cache-to", .string("type=gha,mode=max,scope=${{ matrix.product }}")),
                    ])),
                ]),
            ])),
        ])
    }

    private static func deployJob(_ target: Target, registry: String) -> YAMLValue {
        let environment: YAMLValue
        if let domain = target.topology.ingress.domain {
            let scheme = target.topology.ingress.tls == .none ? "http" : "https"
            environment = .map([("name", .string(target.name)), ("url", .string("\(scheme)://\(domain)"))])
        } else {
            environment = .map([("name", .string(target.name))])
        }
        return .map([
            ("name", .string("Deploy \(target.name)")),
            ("needs", .string("images")),
            ("if", .string(target.condition)),
            ("runs-on", .string("ubuntu-24.04")),
            ("timeout-minutes", .int(30)),
            ("permissions", .map([("contents", .string("read"))])),
            ("environment", environment),
            // Never cancel a half-applied stack update; a newer run waits its turn.
            ("concurrency", .map([
                ("group", .string(target.jobID)),
                ("cancel-in-progress", .bool(false)),
            ])),
            ("steps", .list([
                .map([
                    ("uses", .string(PinnedAction.checkout.uses)),
                    ("with", .map([("persist-credentials", .bool(false))])),
                ]),
                .map([
                    ("name", .string("Log in with the Swarm's read-only registry token")),
                    ("uses", .string(PinnedAction.login.uses)),
                    ("with", .map([
                        ("registry", .string(ServiceImages.registryHost(registry))),
                        ("username", .string("${{ secrets.REGISTRY_USERNAME }}")),
                        ("password", .string("${{ secrets.REGISTRY_READ_TOKEN }}")),
                    ])),
                ]),
                .map([
                    ("name", .string("SSH to the Swarm manager")),
                    ("env", .map([
                        ("SWARM_SSH_KEY", .string("${{ secrets.SWARM_SSH_KEY }}")),
                        ("SWARM_KNOWN_HOSTS", .string("${{ secrets.SWARM_KNOWN_HOSTS }}")),
                    ])),
                    ("run", .block(sshSetup)),
                ]),
                .map([
                    ("name", .string("Deploy the \(target.name) stack")),
                    ("env", .map(deployEnvironment(target))),
                    ("run", .block("""
                        generated/\(target.name)/scripts/deploy.sh
                        docker service ls

                        """)),
                ]),
                .map([
                    ("name", .string("Forget the SSH key")),
                    ("if", .string("always()")),
                    ("run", .string("rm -f ~/.ssh/swarm_deploy")),
                ]),
            ])),
        ])
    }

    private static func deployEnvironment(_ target: Target) -> [(String, YAMLValue)] {
        var variables: [(String, YAMLValue)] = [
            // Every docker command of deploy.sh runs on the manager, over SSH.
            ("DOCKER_HOST", .string("ssh://${{ secrets.SWARM_HOST }}")),
            // stack.yml names every image <registry>/<product>:${SWAP_TAG}.
            ("SWAP_TAG", .string("sha-${{ github.sha }}")),
        ]
        if target.topology.uploadsBackupsOffSite {
            // The backup service's S3_BUCKET/S3_ENDPOINT; empty keeps the dumps on the node.
            variables += [
                ("BACKUP_S3_BUCKET", .string("${{ vars.BACKUP_S3_BUCKET }}")),
                ("BACKUP_S3_ENDPOINT", .string("${{ vars.BACKUP_S3_ENDPOINT }}")),
            ]
        }
        return variables
    }

    /// Key and pinned host key on disk, strict host checking, one multiplexed
    /// connection for the many docker calls of a deploy.
    private static let sshSetup = """
        install -d -m 700 ~/.ssh
        printf '%s\\n' "$SWARM_SSH_KEY" > ~/.ssh/swarm_deploy
        chmod 600 ~/.ssh/swarm_deploy
        printf '%s\\n' "$SWARM_KNOWN_HOSTS" > ~/.ssh/known_hosts
        cat > ~/.ssh/config <<'EOF'
        Host *
          IdentityFile ~/.ssh/swarm_deploy
          IdentitiesOnly yes
          StrictHostKeyChecking yes
          ControlMaster auto
          ControlPath ~/.ssh/cm-%C
          ControlPersist 5m
        EOF

        """
}
