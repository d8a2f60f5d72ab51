// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swiftfs",
    products: [
        .executable(name: "swiftfsd", targets: ["swiftfsd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // Wire formats shared with the Embedded Swift guest: FUSE, virtio-fs, split virtqueues.
        .target(name: "SwiftFSProtocol", path: "protocol"),
        // GNU declarations and macros Swift cannot import by itself. Only CShim.c
        // sees _GNU_SOURCE; its header matches the Glibc module's view of libc.
        .target(name: "CShim", cSettings: [.define("_GNU_SOURCE")]),
        // FUSE server core: request decoding, dispatch to a FileSystem, reply encoding;
        // plus the /dev/fuse transport for host mounts.
        .target(name: "FuseServer", dependencies: [
            "SwiftFSProtocol", "CShim",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The passthrough filesystem over the shared directory.
        .target(name: "Passthrough", dependencies: [
            "FuseServer", "SwiftFSProtocol", "CShim",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The vhost-user back end and the device side of the virtqueues in guest memory.
        .target(name: "VhostUser", dependencies: [
            "FuseServer", "SwiftFSProtocol", "CShim",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "swiftfsd", dependencies: [
            "VhostUser", "FuseServer", "Passthrough", "SwiftFSProtocol", "CShim",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // The kernel's C headers, so tests can check our layouts against them.
        .target(name: "CLinuxHeaders", path: "Tests/CLinuxHeaders", cSettings: [.define("_GNU_SOURCE")]),
        .testTarget(name: "ProtocolTests", dependencies: ["SwiftFSProtocol", "VhostUser", "CLinuxHeaders"]),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "FuseServerTests", dependencies: ["TestSupport", "FuseServer", "Passthrough", "SwiftFSProtocol", "CShim"]),
        .testTarget(name: "PassthroughTests", dependencies: ["TestSupport", "Passthrough", "FuseServer", "SwiftFSProtocol", "CShim"]),
        // Runs the built swiftfsd binary: sockets, limits, capabilities, exit statuses.
        .testTarget(name: "swiftfsdTests", dependencies: ["swiftfsd", "CShim"]),
        .testTarget(name: "VhostUserTests", dependencies: ["VhostUser", "swiftfsd", "FuseServer", "Passthrough", "SwiftFSProtocol", "CShim"]),
    ],
    swiftLanguageModes: [.v6]
)

// Fuzzing (Fuzz/, scripts/fuzz): FuzzTargets holds what each fuzz target does with one input and is
// built always, so FuzzReplayTests replays the seed corpus and every crasher found in `swift test`.
// The libFuzzer executables (-sanitize=fuzzer,address; libFuzzer supplies the driver) are declared
// only when SWIFTFS_FUZZ is set, so a plain build never links them.
package.targets += [
    .target(name: "FuzzTargets", dependencies: [
        "VhostUser", "FuseServer", "Passthrough", "SwiftFSProtocol", "CShim",
        .product(name: "Logging", package: "swift-log"),
    ], path: "Fuzz/Targets"),
    .testTarget(name: "FuzzReplayTests", dependencies: ["FuzzTargets"]),
]
if Context.environment["SWIFTFS_FUZZ"] != nil {
    package.targets += [
        .target(name: "FuzzDriver", path: "Fuzz/FuzzDriver"),
    ] + ["FuseRequestFuzzer", "DescriptorChainFuzzer", "VhostUserMessageFuzzer"].map {
        .executableTarget(name: $0, dependencies: ["FuzzDriver", "FuzzTargets"], path: "Fuzz/\($0)")
    }
}
