import FuseServer
import SwiftFSProtocol

/// `--cache`: how long the guest may trust names, attributes and file data,
/// as virtiofsd's cache=never|metadata|auto|always.
public enum CachePolicy: String, Sendable, CaseIterable {
    /// Nothing cached: timeouts 0, every open DIRECT_IO.
    case never
    /// Names and attributes for 1 s; file data not cached (DIRECT_IO).
    case metadata
    /// Names and attributes for 1 s; data cached while the file stays unchanged (close-to-open).
    case auto
    /// Everything for a day, data kept across opens (KEEP_CACHE): only for shares nobody else changes.
    case always

    var timeout: CacheTimeout {
        switch self {
        case .never: return .none
        case .metadata, .auto: return CacheTimeout(seconds: 1)
        case .always: return CacheTimeout(seconds: 86400)
        }
    }

    /// With DIRECT_IO also PARALLEL_DIRECT_WRITES (Linux 6.0+; older guests
    /// ignore it): the guest then sends direct writes to one file that do not
    /// extend it under a shared inode lock, several at a time. Safe here
    /// because WRITE is positional (pwritev at the request's offset, no
    /// shared cursor), a handle is an immutable descriptor, size and
    /// suid/sgid clearing happen in the host kernel under its own inode lock,
    /// and KILL_SUIDGID drops CAP_FSETID for the serving thread only.
    var fileOpenFlags: FuseOpenOutFlags {
        switch self {
        case .never, .metadata: return [.directIO, .parallelDirectWrites]
        case .auto: return []
        case .always: return .keepCache
        }
    }

    var directoryOpenFlags: FuseOpenOutFlags {
        self == .always ? [.keepCache, .cacheDir] : []
    }
}
