import Foundation
import SwapGenerators
import SwapTopology
import Testing

@Suite("DockerfileRenderer")
struct DockerfileRendererTests {
    private func render(_ environments: [Topology]) throws -> (dockerfile: String, ignore: String) {
        let output = DockerfileRenderer().render(environments)
        return (
            try ProjectRendererFixtures.file(output, "docker/Dockerfile"),
            try ProjectRendererFixtures.file(output, "docker/Dockerfile.dockerignore")
        )
    }

    @Test func matchesGoldenFiles() throws {
        try Golden.check(DockerfileRenderer().render(Fixture.allEnvironments()).files, name: "docker")
    }

    @Test func startsWithTheGeneratedHeader() throws {
        let (dockerfile, ignore) = try render(Fixture.allEnvironments())
        #expect(dockerfile.hasPrefix(GeneratedHeader.hash()))
        #expect(ignore.hasPrefix(GeneratedHeader.hash()))
    }

    /// The checks hadolint would make that matter here: pinned base images,
    /// exec-form entrypoint, a non-root user, one build argument.
    @Test func lintsClean() throws {
        let (dockerfile, _) = try render(Fixture.allEnvironments())
        let lines = dockerfile.split(separator: "\n").map(String.init)
        let froms = lines.filter { $0.hasPrefix("FROM ") }
        #expect(froms.count == 2, "multi-stage: a build and a runtime stage")
        for from in froms {
            let image = from.split(separator: " ")[1]
            #expect(image.contains(":"), "untagged base image: \(from)")
            #expect(!image.hasSuffix(":latest"), "latest tag: \(from)")
        }
        #expect(!dockerfile.lowercased().contains(":latest"))
        #expect(froms.first?.hasPrefix("FROM swift:6.") == true && froms.first?.hasSuffix("-noble AS build") == true)
        #expect(froms.last == "FROM ubuntu:noble")
        #expect(lines.filter { $0.hasPrefix("ARG ") } == ["ARG PRODUCT"])
        #expect(lines.contains { $0.hasPrefix("USER ") && !$0.hasPrefix("USER root") })
        #expect(lines.contains("STOPSIGNAL SIGTERM"))
        #expect(lines.contains { $0.hasPrefix("ENTRYPOINT [\"") }, "exec-form entrypoint")
        #expect(!lines.contains { $0.hasPrefix("EXPOSE") }, "ports come from $PORT")
        #expect(!lines.contains { $0.hasPrefix("CMD ") })
        #expect(dockerfile.contains("HEALTHCHECK"))
        #expect(dockerfile.contains("curl -fsS -o /dev/null \"http://127.0.0.1:${PORT}/health\""))
        #expect(!lines.contains { $0.hasSuffix(" ") }, "trailing whitespace")
    }

    @Test func buildsWithTheCLibrariesAndCachesDependencies() throws {
        let (dockerfile, _) = try render(Fixture.allEnvironments())
        for package in ["libpq-dev", "libhiredis-dev", "librdkafka-dev", "libpq5", "libhiredis1.1.0", "librdkafka1", "ca-certificates", "curl", "tzdata"] {
            #expect(dockerfile.contains(" \(package)"), "missing apt package \(package)")
        }
        let manifest = try #require(dockerfile.range(of: "COPY Package.* ./"))
        let resolve = try #require(dockerfile.range(of: "swift package resolve"))
        let sources = try #require(dockerfile.range(of: "COPY . ."))
        let build = try #require(dockerfile.range(of: "swift build -c release --product \"${PRODUCT}\" --static-swift-stdlib"))
        #expect(manifest.lowerBound < resolve.lowerBound && resolve.lowerBound < sources.lowerBound && sources.lowerBound < build.lowerBound)
    }

    @Test func listsEveryEnabledProductInAComment() throws {
        let environments = try Fixture.allEnvironments()
        let (dockerfile, _) = try render(environments)
        let comments = dockerfile.split(separator: "\n").filter { $0.hasPrefix("#") }.joined(separator: "\n")
        let products = ProjectRendererFixtures.enabledProducts(environments)
        #expect(products.count == 6)
        for product in products {
            #expect(comments.contains("#   \(product) "), "product \(product) is not listed")
        }
    }

    @Test func aSeventhServiceNeedsNothingElse() throws {
        let (dockerfile, _) = try render(ProjectRendererFixtures.withSeventhService())
        #expect(dockerfile.contains("#   rewards-service    service rewards\n"))
    }

    @Test func leavesOutAServiceDisabledEverywhere() throws {
        let (dockerfile, _) = try render(ProjectRendererFixtures.withDisabled("map", product: "map-service"))
        #expect(!dockerfile.contains("map-service"))
        #expect(dockerfile.contains("#   points-service"))
    }

    @Test func keepsSecretsAndBuildOutputOutOfTheContext() throws {
        let (_, ignore) = try render(Fixture.allEnvironments())
        let patterns = Set(ignore.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init))
        for pattern in [".build/", ".tools/", ".git/", "secrets/", ".swap/"] {
            #expect(patterns.contains(pattern), "\(pattern) is sent to the builder")
        }
    }

    @Test func isDeterministic() throws {
        let environments = try Fixture.allEnvironments()
        #expect(DockerfileRenderer().render(environments).files == DockerfileRenderer().render(environments.reversed()).files)
    }
}
