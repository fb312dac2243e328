// swift-tools-version: 6.1
// The Swap platform: the `swapctl` generator and harness, the service kit with
// its C-library wrappers, and the six services, in one package.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "swap",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "swapctl", targets: ["swapctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.20.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.6.0"),
    ],
    targets: [
        // Declarative half: model -> pure renderers -> CLI (the only disk writer).
        .target(
            name: "SwapTopology",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwapGenerators",
            dependencies: ["SwapTopology"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwapCLI",
            dependencies: [
                "SwapTopology",
                "SwapGenerators",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "swapctl", dependencies: ["SwapCLI"], swiftSettings: swiftSettings),

        // C libraries: one system-library target each, imported only by its Swift wrapper.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        // librdkafka >= 2.3 (script/bootstrap builds it into /usr/local when Debian's is older).
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .target(
            name: "SwapPostgres",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwapRedis",
            dependencies: [
                "CHiredis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwapKafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // What every service stands on: configuration, auth, errors, health,
        // metrics, logging, lifecycle, migrations, outbox, idempotency.
        .target(
            name: "ServiceKit",
            dependencies: [
                "SwapPostgres",
                "SwapRedis",
                "SwapKafka",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Real PostgreSQL, Redis, broker and nginx processes on free loopback
        // ports, for the harness and the integration tests.
        .target(
            name: "LocalServers",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "SwapTopologyTests",
            dependencies: ["SwapTopology"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwapGeneratorsTests",
            dependencies: ["SwapGenerators", "SwapTopology"],
            exclude: ["Golden", "Fixture"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwapPostgresTests",
            dependencies: ["SwapPostgres", "LocalServers"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwapRedisTests",
            dependencies: ["SwapRedis", "LocalServers"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwapKafkaTests",
            dependencies: ["SwapKafka", "LocalServers"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwapCLITests",
            dependencies: ["SwapCLI"],
            swiftSettings: swiftSettings
        ),
    ]
)
