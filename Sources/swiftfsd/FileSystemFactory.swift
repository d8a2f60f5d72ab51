import FuseServer
import Logging
import Passthrough

/// Builds the FUSE request handler for the shared directory: the
/// passthrough filesystem behind the FUSE server. Opens the directory (and
/// /proc/self/fd), so it runs before the sandbox hides the host.
enum FileSystemFactory {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func makeHandler(settings: DaemonSettings, logger: Logger) throws -> any FuseRequestHandler {
        var options = PassthroughOptions(sharedDir: settings.sharedDirectory!)
        options.cache = CachePolicy(rawValue: settings.cache.rawValue) ?? .auto
        options.xattr = settings.xattr
        options.readOnly = settings.readOnly
        options.inodeFileHandles = InodeFileHandleMode(rawValue: settings.inodeFileHandles.rawValue) ?? .never
        options.inodeDescriptorCache = settings.inodeDescriptorCache
        do {
            return try makePassthroughServer(options: options, logger: logger)
        } catch {
            throw Failure(description: "cannot share \(settings.sharedDirectory!): \(error)")
        }
    }
}
