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

    var fileOpenFlags: FuseOpenOutFlags {
        switch self {
        case .never, .metadata: return .directIO
        case .auto: return []
        case .always: return .keepCache
        }
    }

    var directoryOpenFlags: FuseOpenOutFlags {
        self == .always ? [.keepCache, .cacheDir] : []
    }
}
