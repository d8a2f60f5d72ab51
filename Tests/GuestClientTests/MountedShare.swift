// A temporary host directory served by the real FuseServer + PassthroughFileSystem,
// mounted in the guest's VFS through the guest's FUSE client and the in-process
// device: the guest side is reached with Posix calls on `guest(_:)` paths, the
// host side with Foundation/Glibc on `host(_:)` paths.

import Foundation
import FuseServer
import Glibc
@testable import GuestFileSystem
import Logging
import Passthrough

final class MountedShare {
    let hostDirectory: String
    /// Where the share is mounted in the guest's single VFS (one mount point per share).
    let mountPoint: String
    let transport: InProcessVirtioFS
    let fileSystem: FuseFileSystem

    /// `cache` as swiftfsd's --cache; `readdirplus: false` as -o no_readdirplus;
    /// `dataCaching: false` as the guest's fuse_cache=0 (no read-ahead or write-behind).
    init(readOnly: Bool = false, cache: CachePolicy = .auto, readdirplus: Bool = true,
         dataCaching: Bool = true) throws {
        hostDirectory = try Self.makeTemporaryDirectory()
        mountPoint = "/" + (hostDirectory as NSString).lastPathComponent
        var options = PassthroughOptions(sharedDir: hostDirectory)
        options.readOnly = readOnly
        options.cache = cache
        options.readdirplus = readdirplus
        transport = InProcessVirtioFS(server: try Self.makeServer(options))
        do {
            fileSystem = try FuseFileSystem(device: transport.device, dataCaching: dataCaching)
            try Posix.mkdir(mountPoint)
            try systemVFS.mount(fileSystem, at: mountPoint)
        } catch {
            transport.disconnect()
            try? FileManager.default.removeItem(atPath: hostDirectory)
            throw error
        }
    }

    deinit {
        // The VFS cannot unmount: the mount stays, answering EIO, and the server goes.
        try? Posix.sync()
        transport.disconnect()
        try? FileManager.default.removeItem(atPath: hostDirectory)
    }

    func host(_ relative: String) -> String { hostDirectory + "/" + relative }
    func guest(_ relative: String) -> String { relative.isEmpty ? mountPoint : mountPoint + "/" + relative }

    /// The server swiftfsd would run for these options (quiet: the tests check what it answers).
    static func makeServer(_ options: PassthroughOptions) throws -> FuseServer<PassthroughFileSystem> {
        var logger = Logger(label: "test.guest-client")
        logger.logLevel = .critical
        return try makePassthroughServer(options: options, logger: logger)
    }

    static func makeTemporaryDirectory() throws -> String {
        var template = Array("/tmp/swiftfs-guest-client.XXXXXX".utf8CString)
        guard let path = mkdtemp(&template) else { throw Errno(errno) }
        return String(cString: path)
    }
}
