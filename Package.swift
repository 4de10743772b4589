// swift-tools-version:6.1
import PackageDescription

// Module boundaries follow I/O and privilege lines (the README's Layout table):
// a pure core, then storage, the spool, the Varlink protocol and server, the
// journald/systemd glue, and two thin executables that only wire parts together.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "strikecd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "strikecd", targets: ["strikecd"]),
        .executable(name: "strikectl", targets: ["strikectl"]),
        // For Fuzz/, a package of its own that depends on this one by path
        // (libFuzzer targets have no main of their own, so they cannot be
        // built by a plain `swift build` of this package).
        .library(name: "StrikeCore", targets: ["StrikeCore"]),
        .library(name: "StrikeSigning", targets: ["StrikeSigning"]),
        .library(name: "StrikeStore", targets: ["StrikeStore"]),
        .library(name: "VarlinkProtocol", targets: ["VarlinkProtocol"]),
        .library(name: "StrikeServer", targets: ["StrikeServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", exact: "2.0.1"),
    ],
    targets: [
        // libsystemd: sd_journal_sendv, sd_notify, sd_listen_fds.
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // sqlite3_config, which is variadic (Store.swift: SQLite's memory
        // statistics off before the first connection).
        .target(name: "CSQLiteSettings", linkerSettings: [.linkedLibrary("sqlite3")]),
        // Pure domain: JSON reading, message format v1, validation, the fold. No I/O.
        .target(name: "StrikeCore", swiftSettings: strict),
        // The one place that makes system calls: EINTR, errno -> typed errors.
        .target(name: "StrikeOS", swiftSettings: strict),
        // SQLite through GRDB: schema, migrations, reconciliation, queries.
        .target(
            name: "StrikeStore",
            dependencies: [
                "StrikeCore", "CSQLiteSettings",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for the statements of the per-copy path
                // (DirectStatement.swift).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Ed25519 signatures: the keyring of origins' public keys (a verifier
        // injected into validation, so the core keeps no dependencies) and
        // secret keys for signing.
        .target(
            name: "StrikeSigning",
            dependencies: ["StrikeCore", "StrikeOS", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // The configuration file.
        .target(
            name: "StrikeConfig",
            dependencies: ["StrikeCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        // The spool directory: safe reading, quarantine, inotify, exactly-once hand-off.
        .target(
            name: "StrikeSpool",
            dependencies: [
                "StrikeCore", "StrikeOS", "StrikeStore", "StrikeJournal",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Varlink wire format, interface texts and typed calls, shared by server and CLI.
        .target(
            name: "VarlinkProtocol",
            dependencies: ["StrikeCore", "StrikeOS"],
            // The .varlink files are the source of truth; InterfaceTexts.swift
            // embeds them verbatim (a test keeps the two identical), so the
            // binaries need no resource bundle at run time.
            exclude: ["Interfaces"],
            swiftSettings: strict
        ),
        // The printable report (strikectl report): a pure renderer from
        // gathered values to one self-contained HTML document, in English,
        // Belarusian and Russian. The .strings files are the translators'
        // source; TranslationTexts.swift embeds them verbatim (a test keeps
        // the two identical), so the binary needs no resource bundle.
        .target(
            name: "StrikeReport",
            dependencies: ["StrikeCore"],
            exclude: ["Translations"],
            swiftSettings: strict
        ),
        // The Varlink server on the Unix socket.
        .target(
            name: "StrikeServer",
            dependencies: [
                "StrikeCore", "StrikeStore", "StrikeSpool", "VarlinkProtocol", "StrikeOS", "StrikeJournal",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                // VarlinkServer is a Service: it stops accepting on graceful shutdown.
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // swift-log handler for the native journal protocol.
        .target(
            name: "StrikeJournal",
            dependencies: ["CSystemd", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // sd_notify and socket activation.
        .target(name: "StrikeSystemd", dependencies: ["CSystemd"], swiftSettings: strict),
        .executableTarget(
            name: "strikecd",
            dependencies: [
                "StrikeCore", "StrikeStore", "StrikeSpool", "StrikeConfig", "StrikeServer",
                "StrikeJournal", "StrikeSystemd", "StrikeOS", "StrikeSigning", "VarlinkProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "strikectl",
            dependencies: [
                "StrikeCore", "VarlinkProtocol", "StrikeOS", "StrikeSigning", "StrikeReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Corpus generators and process helpers shared by the test suites.
        .target(
            name: "TestSupport",
            dependencies: ["StrikeCore"],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "StrikeCoreTests",
            dependencies: [
                "StrikeCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StrikeStoreTests",
            dependencies: [
                "StrikeCore", "StrikeStore", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StrikeSpoolTests",
            dependencies: ["StrikeSpool", "StrikeStore", "StrikeCore", "StrikeOS", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StrikeSigningTests",
            dependencies: ["StrikeSigning", "StrikeCore", "StrikeStore", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StrikeReportTests",
            dependencies: ["StrikeReport", "StrikeCore"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StrikeConfigTests",
            dependencies: ["StrikeConfig", "StrikeCore"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StrikeJournalTests",
            dependencies: ["StrikeJournal", "StrikeSystemd", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VarlinkTests",
            dependencies: [
                "VarlinkProtocol", "StrikeServer", "StrikeStore", "StrikeCore", "StrikeOS",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EndToEndTests",
            // The executables are dependencies so that `swift test` builds them:
            // these tests run the real binaries.
            dependencies: ["StrikeCore", "StrikeConfig", "TestSupport", "strikecd", "strikectl"],
            swiftSettings: strict
        ),
    ]
)
