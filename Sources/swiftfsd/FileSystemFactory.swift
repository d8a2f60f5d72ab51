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

    /// The DAX mapper slot: holding the window file with --dax-window, empty
    /// (for a SHMEM front end to fill) with --dax-size alone, nil without DAX.
    static func makeDaxSlot(settings: DaemonSettings) throws -> DaxMapperSlot? {
        guard let size = settings.daxSize else { return nil }
        guard let path = settings.daxWindow else { return DaxMapperSlot() }
        do {
            return DaxMapperSlot(try DaxWindowFile(path: path, size: size))
        } catch {
            throw Failure(description: error.description)
        }
    }

    /// The concrete server type (not `any FuseRequestHandler`), so the transports
    /// generic over their handler are specialized for it.
    static func makeHandler(settings: DaemonSettings, dax: DaxMapperSlot?, logger: Logger) throws -> FuseServer<PassthroughFileSystem> {
        var options = PassthroughOptions(sharedDir: settings.sharedDirectory!)
        options.dax = dax
        options.cache = CachePolicy(rawValue: settings.cache.rawValue) ?? .auto
        options.xattr = settings.xattr
        options.readOnly = settings.readOnly
        options.posixLocks = settings.posixLocks
        options.flockLocks = settings.flockLocks
        options.readdirplus = settings.readdirplus
        options.announceSubmounts = settings.announceSubmounts
        options.allowDirectIO = settings.allowDirectIO
        options.killprivV2 = settings.killprivV2
        if let seconds = settings.timeout {
            options.timeout = CacheTimeout(seconds: UInt64(seconds),
                                           nanoseconds: UInt32((seconds - seconds.rounded(.down)) * 1e9))
        }
        if let text = settings.xattrMap {
            do {
                options.xattrMap = try XattrMap(parsing: text)
            } catch {
                throw Failure(description: "--xattrmap: \(error)")
            }
            // As in virtiofsd, a mapping turns xattrs on.
            options.xattr = true
        }
        options.inodeFileHandles = InodeFileHandleMode(rawValue: settings.inodeFileHandles.rawValue) ?? .never
        options.inodeDescriptorCache = settings.inodeDescriptorCache
        do {
            return try makePassthroughServer(options: options, logger: logger)
        } catch {
            throw Failure(description: "cannot share \(settings.sharedDirectory!): \(error)")
        }
    }
}
