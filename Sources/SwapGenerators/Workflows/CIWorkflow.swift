import SwapTopology

/// `.github/workflows/ci.yml`: build, validate the topology, check that the
/// committed generated files are current, then run every test suite, in the
/// official Swift image for Debian 12 (the system script/bootstrap expects).
enum CIWorkflow {
    static func render() -> String {
        let cacheKeyBase = "swiftpm-${{ runner.os }}-swift\(ServiceImages.swiftVersion)-"
        let workflow: YAMLValue = .map([
            ("name", .string("CI")),
            ("on", .map([
                ("push", .map([("branches", .strings(["main"]))])),
                ("pull_request", .map([("branches", .strings(["main"]))])),
            ])),
            // Nothing by default; each job asks for what it needs.
            ("permissions", .map([])),
            ("concurrency", .map([
                ("group", .string("${{ github.workflow }}-${{ github.ref }}")),
                ("cancel-in-progress", .bool(true)),
            ])),
            ("defaults", .map([("run", .map([("shell", .string("bash"))]))])),
            ("jobs", .map([
                ("test", .map([
                    ("name", .string("Build and test")),
                    ("runs-on", .string("ubuntu-24.04")),
                    ("container", .string(ServiceImages.ciImage)),
                    ("timeout-minutes", .int(80)),
                    ("permissions", .map([("contents", .string("read"))])),
                    ("steps", .list([
                        .map([
                            ("uses", .string(PinnedAction.checkout.uses)),
                            ("with", .map([("persist-credentials", .bool(false))])),
                        ]),
                        .map([
                            ("name", .string("Restore .build")),
                            ("id", .string("build-cache")),
                            ("uses", .string(PinnedAction.cacheRestore.uses)),
                            ("with", .map([
                                ("path", .string(".build")),
                                ("key", .string(cacheKeyBase + "${{ hashFiles('Package.swift') }}-${{ github.sha }}")),
                                ("restore-keys", .block(cacheKeyBase + "${{ hashFiles('Package.swift') }}-\n" + cacheKeyBase + "\n")),
                            ])),
                        ]),
                        .map([
                            ("name", .string("Install the system libraries and tools")),
                            ("run", .string("script/bootstrap")),
                        ]),
                        .map([
                            ("name", .string("Build")),
                            ("run", .block(withEnv("swift build --build-tests"))),
                        ]),
                        .map([
                            ("name", .string("Validate the topology")),
                            ("run", .block(withEnv("swift run swapctl validate"))),
                        ]),
                        .map([
                            ("name", .string("Generated files match the topology")),
                            ("run", .block(withEnv("swift run swapctl generate --env all --check"))),
                        ]),
                        .map([
                            ("name", .string("Unit, integration and end-to-end tests")),
                            ("run", .string("script/test")),
                        ]),
                        // Pull requests restore main's cache but never write their own.
                        .map([
                            ("name", .string("Save .build")),
                            ("if", .string("github.event_name == 'push' && steps.build-cache.outputs.cache-hit != 'true'")),
                            ("uses", .string(PinnedAction.cacheSave.uses)),
                            ("with", .map([
                                ("path", .string(".build")),
                                ("key", .string("${{ steps.build-cache.outputs.cache-primary-key }}")),
                            ])),
                        ]),
                    ])),
                ])),
            ])),
        ])
        let header = GeneratedHeader.hash() + """
            #
            # Runs in the official Swift image for Debian 12, the system script/bootstrap
            # installs onto. script/test bootstraps again (idempotent, seconds), builds
            # incrementally and runs the unit, integration and end-to-end suites.

            """
        return WorkflowText.pinComments(header + workflow.render())
    }

    /// A run block with the project's tools (script/env) on PATH.
    private static func withEnv(_ command: String) -> String {
        "# shellcheck source=script/env\n. script/env\n\(command)\n"
    }
}
