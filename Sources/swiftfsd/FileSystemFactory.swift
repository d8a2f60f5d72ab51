import FuseServer
import Logging

/// Builds the FUSE request handler for the shared directory: the
/// passthrough filesystem behind the FUSE server. Opens the directory, so it
/// runs before the sandbox hides the host.
enum FileSystemFactory {
    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    static func makeHandler(settings: DaemonSettings, logger: Logger) throws -> any FuseRequestHandler {
        // The passthrough filesystem (Sources/Passthrough) is being written in parallel.
        throw Unavailable(description: "the passthrough filesystem is not yet available")
    }
}
