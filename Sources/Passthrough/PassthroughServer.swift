import FuseServer
import Logging
import SwiftFSProtocol

/// The FUSE server over a passthrough share, built the same way for every
/// transport (vhost-user and /dev/fuse).
public func makePassthroughServer(options: PassthroughOptions,
                                  logger: Logger = Logger(label: "swiftfs.passthrough")) throws(Errno) -> FuseServer<PassthroughFileSystem> {
    let fileSystem = try PassthroughFileSystem(options: options, logger: logger)
    var serverOptions = FuseServerOptions()
    serverOptions.maxWrite = options.maxWrite
    serverOptions.readOnly = options.readOnly
    return FuseServer(fileSystem: fileSystem, options: serverOptions, logger: logger)
}
