// swift-tools-version: 6.0
// Hardware MFA token bridge and verifier. Layers (imports point down only):
//   COpenSSL, CConstantTime  →  OTP  →  (TokenDevices [+ CPCSCLite, CLibUSB], MFA, stores, MFAServer)  →  mfactl
//   TokenDevices  →  VirtualTokens (the virtual YKOATH card and vpcd client)  →  token-emulator, tests
//   CQREncode  →  QRCode (enrollment QR codes; independent of OTP)
import PackageDescription

let package = Package(
    name: "mfa-bridge",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "OTP", targets: ["OTP"]),
        .library(name: "TokenDevices", targets: ["TokenDevices"]),
        .library(name: "QRCode", targets: ["QRCode"]),
        .executable(name: "mfactl", targets: ["mfactl"]),
        .executable(name: "otp-bench", targets: ["otp-bench"]),
        .executable(name: "ct-harness", targets: ["ct-harness"]),
        .executable(name: "token-emulator", targets: ["token-emulator"]),
        .executable(name: "import-bench", targets: ["import-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        // Already in the graph through Hummingbird and postgres-nio; named for the store's TLS settings.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        // Already in the graph through Hummingbird; named for the server's own HTTP/1 channel.
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.0"),
        // Already in the graph through Hummingbird; named for serve's bounded graceful shutdown.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // TOML (toml++ underneath) for `mfactl serve --config FILE`.
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // OpenSSL's libcrypto (HMAC key schedule on the digest compression functions, AES, RNG):
        // a prototype-only header (include/mfa_openssl.h) over C compiled once (mfa_openssl.c).
        // Needs Debian's libssl-dev.
        .target(
            name: "COpenSSL",
            // DWARF 4: valgrind 3.19 (Debian 12), which the constant-time proof runs under, cannot read clang's DWARF 5.
            cSettings: [.unsafeFlags(["-gdwarf-4"])],
            linkerSettings: [.linkedLibrary("crypto")]
        ),
        // liboath (oath-toolkit): only the benchmark links it, as the reference it is measured against.
        .systemLibrary(
            name: "CLibOath",
            pkgConfig: "liboath",
            providers: [.apt(["liboath-dev"])]
        ),
        // pcsc-lite's client library (PC/SC smartcard readers through pcscd).
        .systemLibrary(
            name: "CPCSCLite",
            pkgConfig: "libpcsclite",
            providers: [.apt(["libpcsclite-dev"])]
        ),
        // libusb-1.0: USB tokens (YubiKey OTP HID interface and the catalog of supported tokens).
        .systemLibrary(
            name: "CLibUSB",
            pkgConfig: "libusb-1.0",
            providers: [.apt(["libusb-1.0-0-dev"])]
        ),
        // libqrencode: QR code symbols for otpauth:// enrollment URIs.
        .systemLibrary(
            name: "CQREncode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        // libxml2's pull parser (xmlTextReader): streaming PSKC seed files, no DTDs or entities.
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        // Declassification points for constant-time checking under valgrind memcheck
        // (client requests are a handful of no-op instructions outside valgrind).
        .target(name: "CConstantTime"),
        .target(
            name: "OTP",
            dependencies: ["COpenSSL", "CConstantTime"]
        ),
        // QR codes (libqrencode) rendered for terminals and as PNG (own encoder, no zlib).
        .target(
            name: "QRCode",
            dependencies: ["CQREncode"]
        ),
        // Device layer: PC/SC (readers, cards, APDUs), the YKOATH applet client; USB (libusb), the
        // YubiKey OTP HID protocol, the token catalog. (Yubico OTP decoding and HMAC are OTP's.)
        .target(
            name: "TokenDevices",
            dependencies: ["OTP", "CPCSCLite", "CLibUSB"]
        ),
        // Virtual tokens for tests and `token-emulator`: the YKOATH applet (with hostile modes) and
        // the client of vpcd, pcscd's virtual reader. Not part of the device layer the service links.
        .target(
            name: "VirtualTokens",
            dependencies: ["TokenDevices", "OTP"]
        ),
        // Seed files of hardware token batches: PSKC (RFC 6030; plaintext, pre-shared key, PBKDF2;
        // MACs) and CSV, read in a stream, decrypted, and checked key by key.
        .target(
            name: "SeedImport",
            dependencies: ["OTP", "COpenSSL", "CLibXML2"]
        ),
        // Domain and service: devices, policy, enrollment/verify/resync, import, vault, audit, store protocol.
        .target(
            name: "MFA",
            dependencies: ["OTP", "COpenSSL", "SeedImport"]
        ),
        // SQLite's process-wide configuration (sqlite3_config is variadic: C, not Swift).
        .target(
            name: "CSQLiteSetup",
            linkerSettings: [.linkedLibrary("sqlite3")]
        ),
        // The embedded default store: SQLite through GRDB (DatabasePool, WAL, migrations).
        .target(
            name: "MFAStoreSQLite",
            dependencies: [
                "MFA", "CSQLiteSetup", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // Swift Concurrency tasks that run on a NIO event loop's thread (the server's connections, the
        // PostgreSQL store's group commit).
        .target(
            name: "EventLoopExecutor",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // The shared store for many server processes: PostgreSQL through postgres-nio (pool, migrations).
        .target(
            name: "MFAStorePostgres",
            dependencies: [
                "MFA", "EventLoopExecutor", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The HTTP API (Hummingbird 2): a library, so tests build the application in-process.
        .target(
            name: "MFAServer",
            dependencies: [
                "MFA", "QRCode", "SeedImport", "EventLoopExecutor", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // The codec between NIO's HTTP/1 parts and HTTPTypes, as Hummingbird's HTTP1Channel uses it.
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"), .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            ]
        ),
        .executableTarget(
            name: "mfactl",
            dependencies: [
                "OTP",
                "TokenDevices",
                "MFA",
                "MFAStoreSQLite",
                "MFAStorePostgres",
                "MFAServer",
                "QRCode",
                "SeedImport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            // TCMalloc instead of glibc's malloc: the service allocates many small short-lived objects per
            // request on several threads (Docs/benchmarks.md, "Allocator"). Not jemalloc: its start-up
            // calls readlink(2), which an LD_PRELOAD interposer such as umockdev's answers through
            // dlopen and malloc, and the process deadlocks before main.
            linkerSettings: [.linkedLibrary("tcmalloc_minimal", .when(platforms: [.linux]))]
        ),
        // A virtual YKOATH card inserted into pcscd's vpcd reader, for tests against real PC/SC clients.
        .executableTarget(
            name: "token-emulator",
            dependencies: [
                "TokenDevices", "VirtualTokens",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The benchmarks' command line: --help runs nothing, an unknown option stops them (exit 64).
        .target(name: "BenchArguments"),
        .executableTarget(
            name: "otp-bench",
            dependencies: ["OTP", "CLibOath", "COpenSSL", "BenchArguments"]
        ),
        // Seed-file import benchmark: writes a PSK-encrypted PSKC file with MACs and imports it into SQLite.
        .executableTarget(
            name: "import-bench",
            dependencies: ["OTP", "SeedImport", "MFA", "MFAStoreSQLite", "BenchArguments"]
        ),
        // Rejection costs by reason (wrong code, replay, unknown user, locked, pending), round-robin.
        .executableTarget(
            name: "reject-bench",
            dependencies: ["OTP", "MFA", "MFAStoreSQLite", "BenchArguments"]
        ),
        .executableTarget(
            name: "ct-harness",
            dependencies: ["OTP", "CConstantTime"]
        ),
        // NIO's reading of a request, the reference for the fast path's scanner (tests and the fuzzer).
        .target(
            name: "HTTPReference",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // libFuzzer targets for every parser of hostile input (scripts/fuzz.sh builds it with
        // -sanitize=fuzzer,address and -DMFA_FUZZ); built normally, it replays committed corpora.
        .executableTarget(
            name: "mfa-fuzz",
            dependencies: [
                "OTP", "SeedImport", "TokenDevices", "MFAServer", "HTTPReference",
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        // Shared by the test targets: running reference programs, seeded randomness.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "OTPTests",
            dependencies: ["OTP", "COpenSSL", "TestSupport"],
            exclude: ["Reference"]
        ),
        .testTarget(name: "QRCodeTests", dependencies: ["QRCode", "OTP", "TestSupport"]),
        .testTarget(name: "SeedImportTests", dependencies: ["SeedImport", "OTP", "TestSupport"]),
        .testTarget(name: "MFATests", dependencies: ["MFA", "MFAStoreSQLite", "MFAStorePostgres", "OTP", "SeedImport", "TestSupport"]),
        .testTarget(
            name: "MFAServerTests",
            dependencies: [
                "MFAServer", "MFA", "MFAStoreSQLite", "OTP", "HTTPReference", "EventLoopExecutor", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "TokenDevicesTests", dependencies: ["TokenDevices", "VirtualTokens", "OTP", "TestSupport", "token-emulator"]),
        .testTarget(name: "mfactlTests", dependencies: ["OTP", "TokenDevices", "mfactl", "token-emulator", "TestSupport"]),
    ]
)
