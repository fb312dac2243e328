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
        .executable(name: "gateway", targets: ["gateway"]),
        .executable(name: "financial-service", targets: ["financial-service"]),
        .executable(name: "messages-service", targets: ["messages-service"]),
        .executable(name: "realtime-service", targets: ["realtime-service"]),
        .executable(name: "map-service", targets: ["map-service"]),
        .executable(name: "points-service", targets: ["points-service"]),
        .executable(name: "swap-e2e", targets: ["swap-e2e"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
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
        // Boots the local environment natively: infrastructure, services, nginx.
        .target(
            name: "SwapHarness",
            dependencies: [
                "SwapTopology",
                "SwapGenerators",
                "LocalServers",
                "SwapKafka",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwapCLI",
            dependencies: [
                "SwapTopology",
                "SwapGenerators",
                "SwapHarness",
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
        // The bounded, self-healing pool and the per-connection thread both database wrappers use.
        .target(
            name: "ConnectionPooling",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwapPostgres",
            dependencies: [
                "CLibPQ",
                "ConnectionPooling",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwapRedis",
            dependencies: [
                "CHiredis",
                "ConnectionPooling",
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
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The six services: a module each (App+build, Controllers, Repositories) and a thin executable.
        .target(
            name: "Gateway",
            dependencies: [
                "ServiceKit",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "gateway", dependencies: ["Gateway"], swiftSettings: swiftSettings),
        .target(
            name: "FinancialService",
            dependencies: [
                "ServiceKit",
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "financial-service", dependencies: ["FinancialService"], swiftSettings: swiftSettings),
        .target(
            name: "MessagesService",
            dependencies: [
                "ServiceKit",
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "messages-service", dependencies: ["MessagesService"], swiftSettings: swiftSettings),
        .target(
            name: "RealtimeService",
            dependencies: [
                "ServiceKit",
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "realtime-service", dependencies: ["RealtimeService"], swiftSettings: swiftSettings),
        .target(
            name: "MapService",
            dependencies: [
                "ServiceKit",
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "map-service", dependencies: ["MapService"], swiftSettings: swiftSettings),
        .target(
            name: "PointsService",
            dependencies: [
                "ServiceKit",
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "points-service", dependencies: ["PointsService"], swiftSettings: swiftSettings),
        // The end-to-end suite: scenarios against a running stack, through nginx only (`swapctl e2e`).
        .executableTarget(
            name: "swap-e2e",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "e2e",
            swiftSettings: swiftSettings
        ),
        // Real PostgreSQL, Redis, broker and nginx processes on free loopback
        // ports, for the harness and the integration tests.
        .target(
            name: "LocalServers",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),

        // What the service test targets share: servers started once per test
        // process, databases and secrets of a test's own, tokens, a service run
        // on a free port and an HTTP client for it. Test code: in no product.
        .target(
            name: "ServiceTesting",
            dependencies: [
                "ServiceKit",
                "LocalServers",
                "SwapKafka",
                "SwapPostgres",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/ServiceTesting",
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
            name: "ServiceKitTests",
            dependencies: ["ServiceKit", "LocalServers", "ServiceTesting", .product(name: "HummingbirdTesting", package: "hummingbird")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: ["Gateway", "LocalServers", "ServiceKit", "ServiceTesting", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FinancialServiceTests",
            dependencies: ["FinancialService", "LocalServers", "ServiceKit", "ServiceTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MessagesServiceTests",
            dependencies: ["MessagesService", "LocalServers", "ServiceKit", "ServiceTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RealtimeServiceTests",
            dependencies: ["RealtimeService", "LocalServers", "ServiceKit", "ServiceTesting", .product(name: "HummingbirdWSClient", package: "hummingbird-websocket")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MapServiceTests",
            dependencies: ["MapService", "LocalServers", "ServiceKit", "ServiceTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PointsServiceTests",
            dependencies: ["PointsService", "LocalServers", "ServiceKit", "ServiceTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LocalServersTests",
            dependencies: ["LocalServers"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwapHarnessTests",
            dependencies: ["SwapHarness", "LocalServers"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwapCLITests",
            dependencies: ["SwapCLI", "LocalServers"],
            swiftSettings: swiftSettings
        ),
    ]
)
