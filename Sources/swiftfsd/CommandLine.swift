import ArgumentParser
import Glibc
import Logging

/// Cache modes of virtiofsd: how long the guest may trust attributes and data.
enum CacheMode: String, ExpressibleByArgument, CaseIterable, Sendable {
    case never, metadata, auto, always
    /// The C virtiofsd calls `never` `none`.
    init?(argument: String) {
        self.init(rawValue: argument == "none" ? "never" : argument)
    }
}

enum SandboxMode: String, ExpressibleByArgument, CaseIterable, Sendable {
    case namespace, chroot, none
}

/// `--inode-file-handles`, as virtiofsd's.
enum InodeFileHandles: String, ExpressibleByArgument, CaseIterable, Sendable {
    case never, prefer, mandatory
}

enum LogLevel: String, ExpressibleByArgument, CaseIterable, Sendable {
    case error, warn, info, debug, trace, off

    /// Accepts the C virtiofsd's spellings too (`err`, `warning`).
    init?(argument: String) {
        switch argument {
        case "err": self = .error
        case "warning": self = .warn
        default: self.init(rawValue: argument)
        }
    }

    var level: Logger.Level {
        switch self {
        case .error: .error
        case .off: .critical
        case .warn: .warning
        case .info: .info
        case .debug: .debug
        case .trace: .trace
        }
    }
}

/// The settings the daemon runs with, after merging the long options with
/// the C virtiofsd's `-o key[=value],...` options (later ones win).
struct DaemonSettings: Sendable {
    var sharedDirectory: String?
    var socketPath: String?
    var socketGroup: String?
    var listeningFd: Int32?
    var tag: String?
    var cache: CacheMode = .auto
    /// nil: the transport's default (see `vhostThreadPoolSize`).
    var threadPoolSize: Int?

    /// 0 by default: requests run on their queue's thread (a pool hand-off
    /// doubles the latency on a small host); blocking lock requests go to
    /// threads of their own either way.
    var vhostThreadPoolSize: Int { threadPoolSize ?? 0 }
    /// namespace needs root (CAP_SYS_ADMIN), like virtiofsd's default; others get none.
    var sandbox: SandboxMode = geteuid() == 0 ? .namespace : .none
    /// On by default (unlike virtiofsd): guests expect xattrs to work.
    var xattr = true
    var readOnly = false
    /// nil: raise as far as allowed; 0: leave alone; N: exactly N.
    var rlimitNofile: Int?
    /// prefer needs CAP_DAC_READ_SEARCH for open_by_handle_at: root has it.
    var inodeFileHandles: InodeFileHandles = geteuid() == 0 ? .prefer : .never
    /// nil: half the open file limit.
    var inodeDescriptorCache: Int?
    var logLevel: LogLevel = .info
    var fuseMountPoint: String?
    /// -o options that are not daemon settings: kernel mount options for --fuse-mount.
    var mountOptions: [String] = []

    /// Applies one comma-separated `-o` argument. Unknown keys are kept as
    /// mount options (for --fuse-mount) and otherwise ignored with a warning.
    mutating func apply(compatOptions argument: String) throws(ValidationError) {
        for item in argument.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1)
            let key = String(parts[0])
            let value = parts.count > 1 ? String(parts[1]) : nil
            switch (key, value) {
            case ("source", let v?): sharedDirectory = v
            case ("cache", let v?):
                guard let mode = CacheMode(argument: v) else { throw ValidationError("unknown cache mode '\(v)'") }
                cache = mode
            case ("sandbox", let v?):
                guard let mode = SandboxMode(argument: v) else { throw ValidationError("unknown sandbox mode '\(v)'") }
                sandbox = mode
            case ("log_level", let v?):
                guard let level = LogLevel(argument: v) else { throw ValidationError("unknown log level '\(v)'") }
                logLevel = level
            case ("xattr", nil): xattr = true
            case ("no_xattr", nil): xattr = false
            case ("readonly", nil), ("ro", nil): readOnly = true
            case ("debug", nil): logLevel = .debug
            case ("thread_pool_size", let v?):
                guard let n = Int(v), n >= 0 else { throw ValidationError("bad thread_pool_size '\(v)'") }
                threadPoolSize = n
            // Accepted for compatibility; the guest kernel handles locks locally.
            case ("flock", nil), ("no_flock", nil), ("posix_lock", nil), ("no_posix_lock", nil),
                 ("readdirplus", nil), ("no_readdirplus", nil), ("writeback", nil), ("no_writeback", nil),
                 ("allow_root", nil), ("announce_submounts", nil), ("timeout", _), ("max_idle_threads", _),
                 ("modcaps", _), ("no_posix_acl", nil), ("killpriv_v2", nil), ("no_killpriv_v2", nil):
                break
            default:
                mountOptions.append(String(item))
            }
        }
    }
}
