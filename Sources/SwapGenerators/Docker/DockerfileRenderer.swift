import SwapTopology

/// `docker/Dockerfile`: one multi-stage Dockerfile for every service image,
/// parameterised by the SwiftPM product to build, and its
/// `Dockerfile.dockerignore` (BuildKit reads `<Dockerfile>.dockerignore` beside
/// the Dockerfile before the context root's `.dockerignore`).
public struct DockerfileRenderer: ProjectRenderer {
    public init() {}

    public func render(_ environments: [Topology]) -> RenderOutput {
        guard !environments.isEmpty else { return RenderOutput() }
        let products = ServiceImages.products(environments)
        var notes: [GenerationNote] = []
        let registries = Set(environments.map { $0.registry.lowercased() })
        if registries.count > 1 {
            notes.append(GenerationNote(
                environment: "docker",
                message: "environments name different registries (\(registries.sorted().joined(separator: ", "))); "
                    + "images are built once and pushed to \(ServiceImages.registry(environments))"
            ))
        }
        return RenderOutput(
            files: [
                GeneratedFile(path: "docker/Dockerfile", contents: dockerfile(products, registry: ServiceImages.registry(environments))),
                GeneratedFile(path: "docker/Dockerfile.dockerignore", contents: dockerignore),
            ],
            notes: notes
        )
    }

    func dockerfile(_ products: [ServiceImages.Product], registry: String) -> String {
        let width = products.map(\.name.count).max() ?? 0
        let productLines = products.map { product in
            let padding = String(repeating: " ", count: width - product.name.count)
            return "#   \(product.name)\(padding)  service \(product.services.joined(separator: ", "))"
        }
        let example = products.first?.name ?? "PRODUCT"
        return GeneratedHeader.hash() + """
            #
            # One image per service, from the repository root (the build context):
            #   docker build -f \(ServiceImages.dockerfilePath) --build-arg PRODUCT=\(example) \\
            #     -t \(registry)/\(example):<tag> .
            #
            # Products it builds (SwiftPM executable products of the enabled services):
            \(productLines.joined(separator: "\n"))
            #
            # The service listens on $PORT (set by the deployment), so nothing is EXPOSEd.

            # ---------------------------------------------------------------- build
            FROM \(ServiceImages.buildImage) AS build

            # Headers of the C libraries the service kit links (libpq, hiredis, librdkafka >= 2.3).
            RUN export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \\
                && apt-get -q update \\
                && apt-get -q install -y --no-install-recommends \\
                    libpq-dev libhiredis-dev librdkafka-dev pkg-config \\
                && rm -rf /var/lib/apt/lists/*

            WORKDIR /build

            # Dependencies in their own layer: rebuilt only when the manifest changes.
            COPY Package.* ./
            RUN if [ -f Package.resolved ]; then swift package resolve --force-resolved-versions; \\
                else swift package resolve; fi

            COPY . .

            # Declared after the shared layers so that every product reuses them.
            ARG PRODUCT
            RUN test -n "${PRODUCT}" || { echo "build with --build-arg PRODUCT=<SwiftPM product>" >&2; exit 1; }
            RUN swift build -c release --product "${PRODUCT}" --static-swift-stdlib \\
                && bin="$(swift build -c release --show-bin-path)" \\
                && mkdir -p /staging \\
                && cp "${bin}/${PRODUCT}" /staging/ \\
                && ln -s "${PRODUCT}" /staging/service \\
                && cp /usr/libexec/swift/linux/swift-backtrace-static /staging/ \\
                && find -L "${bin}/" -maxdepth 1 -name '*.resources' -exec cp -Ra {} /staging/ \\;

            # -------------------------------------------------------------- runtime
            FROM \(ServiceImages.runtimeImage)

            # Run-time halves of the C libraries, CA roots, tzdata, and curl for the health check.
            RUN export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \\
                && apt-get -q update \\
                && apt-get -q install -y --no-install-recommends \\
                    libpq5 libhiredis1.1.0 librdkafka1 ca-certificates curl tzdata \\
                && rm -rf /var/lib/apt/lists/*

            RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home \\
                --shell /usr/sbin/nologin swap

            WORKDIR /app
            # Owned by root: the service user can run the binary but not change it.
            COPY --from=build /staging/ /app/

            ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/swift-backtrace-static

            USER swap:swap
            STOPSIGNAL SIGTERM
            # Liveness only; deployments add their own checks (readiness on /ready).
            HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \\
                CMD curl -fsS -o /dev/null "http://127.0.0.1:${PORT}/health" || exit 1
            # /app/service links to the product's binary.
            ENTRYPOINT ["/app/service"]

            """
    }

    /// Keeps build output, tools, git history and local secrets out of the
    /// build context (and so out of every cached layer).
    let dockerignore = GeneratedHeader.hash() + """
        .build/
        .build-*/
        .build_*/
        .swiftpm/
        .tools/
        .swap/
        .git/
        .ci/
        secrets/
        **/.DS_Store

        """
}
