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
        // Small system pieces every layer uses: an owned file descriptor, a joinable thread.
        .target(name: "SystemSupport", dependencies: ["CShim"]),
        // Bounds-checked views over a request's byte segments (guest buffers of a
        // descriptor chain, or one /dev/fuse buffer): what every transport hands on.
        .target(name: "ScatterGather", dependencies: ["SwiftFSProtocol"]),
        // FUSE server core: request decoding, dispatch to a FileSystem, reply encoding.
        .target(name: "FuseServer", dependencies: [
            "ScatterGather", "SwiftFSProtocol", "CShim",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The passthrough filesystem over the shared directory.
        .target(name: "Passthrough", dependencies: [
            "FuseServer", "SystemSupport", "SwiftFSProtocol", "CShim",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The vhost-user back end and the device side of the virtqueues in guest memory,
        // generic over the device (VirtioDeviceHandler): it knows no FUSE.
        .target(name: "VhostUser", dependencies: [
            "SystemSupport", "SwiftFSProtocol", "CShim",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The /dev/fuse transport: host mounts served by the same FUSE core.
        .target(name: "FuseMount", dependencies: [
            "FuseServer", "ScatterGather", "SwiftFSProtocol", "SystemSupport", "CShim",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The virtio-fs device: the FUSE server behind the vhost-user back end (SETLKW scheduling, DAX through SHMEM).
        .target(name: "VhostUserFS", dependencies: ["VhostUser", "FuseServer", "ScatterGather", "SwiftFSProtocol"]),
        .executableTarget(name: "swiftfsd", dependencies: [
            "VhostUser", "VhostUserFS", "FuseMount", "FuseServer", "Passthrough", "SystemSupport", "SwiftFSProtocol", "CShim",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // The unikernel's filesystem code (guest/fs) built for the host with the host stand-ins for
        // the kernel's device API (guest/hostkernel), so its FUSE client can meet the real FuseServer
        // in GuestClientTests. The kernel, boot code, apps and scripted host tests stay out.
        .target(
            name: "GuestFileSystem", dependencies: ["SwiftFSProtocol"], path: "guest",
            exclude: ["apps", "boot", "kernel", "hosttest", "fs/README.md"],
            sources: ["fs", "hostkernel"]),
        .testTarget(name: "GuestClientTests", dependencies: [
            "GuestFileSystem", "FuseServer", "Passthrough", "ScatterGather", "SwiftFSProtocol",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // The kernel's C headers, so tests can check our layouts against them.
        .target(name: "CLinuxHeaders", path: "Tests/CLinuxHeaders", cSettings: [.define("_GNU_SOURCE")]),
        .testTarget(name: "ProtocolTests", dependencies: ["SwiftFSProtocol", "VhostUser", "CLinuxHeaders"]),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ScatterGatherTests", dependencies: ["ScatterGather", "SwiftFSProtocol"]),
        .testTarget(name: "FuseServerTests", dependencies: [
            "TestSupport", "FuseServer", "Passthrough", "ScatterGather", "SystemSupport", "SwiftFSProtocol", "CShim",
        ]),
        // Mounts a share through /dev/fuse (needs root).
        .testTarget(name: "FuseMountTests", dependencies: [
            "TestSupport", "FuseMount", "FuseServer", "Passthrough", "ScatterGather", "SystemSupport", "SwiftFSProtocol",
            "CShim",
        ]),
        .testTarget(name: "PassthroughTests", dependencies: [
            "TestSupport", "Passthrough", "FuseServer", "SystemSupport", "SwiftFSProtocol", "CShim",
        ]),
        // Runs the built swiftfsd binary: sockets, limits, capabilities, exit statuses.
        .testTarget(name: "swiftfsdTests", dependencies: ["swiftfsd", "CShim"]),
        .testTarget(name: "VhostUserTests", dependencies: [
            "VhostUser", "VhostUserFS", "swiftfsd", "FuseServer", "Passthrough", "ScatterGather", "SystemSupport",
            "SwiftFSProtocol", "CShim",
        ]),
    ],
    swiftLanguageModes: [.v6]
)

// Release builds optimize across module boundaries: the vhost-user back end is generic over its
// device and the FUSE core over its filesystem, and without this every request paid for run-time
// generic metadata lookups, witness-table calls and unspecialized ScatterReader/Writer records
// (docs/benchmarks.md, "Where the time goes"). Bounds and overflow checks stay (-O, never -Ounchecked).
for target in package.targets where target.type == .regular || target.type == .executable {
    target.swiftSettings = (target.swiftSettings ?? [])
        + [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]
}

// Fuzzing (Fuzz/, scripts/fuzz): FuzzTargets holds what each fuzz target does with one input and is
// built always, so FuzzReplayTests replays the seed corpus and every crasher found in `swift test`.
// The libFuzzer executables (-sanitize=fuzzer,address; libFuzzer supplies the driver) are declared
// only when SWIFTFS_FUZZ is set, so a plain build never links them.
package.targets += [
    .target(name: "FuzzTargets", dependencies: [
        "VhostUser", "VhostUserFS", "FuseServer", "Passthrough", "SystemSupport", "SwiftFSProtocol", "CShim",
        .product(name: "Logging", package: "swift-log"),
    ], path: "Fuzz/Targets"),
    .testTarget(name: "FuzzReplayTests", dependencies: ["FuzzTargets"]),
]
if Context.environment["SWIFTFS_FUZZ"] != nil {
    package.targets += [
        .target(name: "FuzzDriver", path: "Fuzz/FuzzDriver"),
        .target(name: "FuzzEntry", dependencies: ["FuzzDriver"], path: "Fuzz/FuzzEntry"),
    ] + ["FuseRequestFuzzer", "DescriptorChainFuzzer", "VhostUserMessageFuzzer"].map {
        .executableTarget(name: $0, dependencies: ["FuzzEntry", "FuzzTargets"], path: "Fuzz/\($0)")
    }
}
