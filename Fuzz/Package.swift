// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for strikecd (docs/security.md, Fuzz/README.md). A package
// of its own so that the normal build is unaffected: a libFuzzer target has no
// main (libFuzzer brings it), so it links only with -sanitize=fuzzer:
//
//   swift build --package-path Fuzz -c debug -Xswiftc -sanitize=fuzzer
//
// Fuzz/run builds and runs each for a bounded time.
let package = Package(
    name: "strikecd-fuzz",
    dependencies: [
        .package(name: "strikecd", path: ".."),
        // The same version as the main package: for NIOEmbedded's EmbeddedChannel.
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        // The same version as the main package: for reading the store's tables.
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
    ],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver.
        .target(name: "CFuzzerDriver"),
        // The message reader and validator, with and without signatures.
        .executableTarget(
            name: "FuzzMessage",
            dependencies: [
                "CFuzzerDriver",
                .product(name: "StrikeCore", package: "strikecd"),
                .product(name: "StrikeSigning", package: "strikecd"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]
        ),
        // The reconciler: sequences of messages with numbers at their edges,
        // in batches, against a real store; totals recounted after each.
        .executableTarget(
            name: "FuzzReconcile",
            dependencies: [
                "CFuzzerDriver",
                .product(name: "StrikeCore", package: "strikecd"),
                .product(name: "StrikeStore", package: "strikecd"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]
        ),
        // Varlink framing (the NUL-splitting handler), call decoding and
        // dispatch against a real store, and the strictness of our replies.
        .executableTarget(
            name: "FuzzVarlink",
            dependencies: [
                "CFuzzerDriver",
                .product(name: "StrikeCore", package: "strikecd"),
                .product(name: "StrikeStore", package: "strikecd"),
                .product(name: "VarlinkProtocol", package: "strikecd"),
                .product(name: "StrikeServer", package: "strikecd"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
