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
    /// nil: the default, `effectiveSandbox`.
    var sandbox: SandboxMode?
    /// namespace by default, as virtiofsd (without root inside a user
    /// namespace); --fuse-mount runs unconfined: it unmounts its mount point by path.
    var effectiveSandbox: SandboxMode { sandbox ?? (fuseMountPoint == nil ? .namespace : .none) }
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
    /// `-o io_uring` (libfuse's name): serve --fuse-mount through FUSE over io_uring.
    var fuseIoUring = false
    /// `-o io_uring_q_depth=N`: ring entries per queue (libfuse's default 8).
    var fuseIoUringQueueDepth: Int?
    /// `--dax-window`: the shared window file (QEMU 7.2 ivshmem); `--dax-size`: its size in bytes.
    var daxWindow: String?
    var daxSize: UInt64?

    /// "64M", "1G", "2097152": bytes with an optional binary K/M/G suffix; nil if malformed or too large.
    static func parseSize(_ text: String) -> UInt64? {
        guard let last = text.last else { return nil }
        let shifts: [Character: UInt64] = ["k": 10, "K": 10, "m": 20, "M": 20, "g": 30, "G": 30]
        let shift = shifts[last] ?? 0
        let digits = shift == 0 ? Substring(text) : text.dropLast()
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = UInt64(digits) else { return nil }
        let (scaled, overflow) = value.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : scaled
    }
    /// `-o posix_lock|no_posix_lock`, `-o flock|no_flock`: serve the guest's locks (on by default).
    var posixLocks = true
    var flockLocks = true
    /// `-o readdirplus|no_readdirplus`, `--no-readdirplus`.
    var readdirplus = true
    /// `-o timeout=SECONDS`: entry and attribute timeout instead of the cache mode's.
    var timeout: Double?
    /// `--announce-submounts`: mount points inside the share become submounts in the guest.
    var announceSubmounts = false
    /// `--allow-direct-io`: honour the guest's O_DIRECT.
    var allowDirectIO = false
    /// `--killpriv-v2`, `-o killpriv_v2`: grant FUSE_HANDLE_KILLPRIV_V2 (off by
    /// default, as in virtiofsd 7.2: the guest then trusts its cached mode, see README).
    var killprivV2 = false
    /// `--syslog`: log to syslog instead of stderr.
    var syslog = false
    /// `--xattrmap`: the xattr name policy (nil: the default policy).
    var xattrMap: String?
    /// `-o modcaps=+a:-b`, `--modcaps`: changes to the kept capability set.
    var modcaps: String?
    /// `--seccomp`: what a system call outside the allowlist does (nil: kill, or none for --fuse-mount).
    var seccomp: SeccompAction?

    /// Applies one comma-separated `-o` argument. Unknown keys are kept as
    /// mount options for --fuse-mount (refused for vhost-user in validate).
    /// Keys of virtiofsd that swiftfsd does not implement are refused here.
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
            case ("xattrmap", let v?): xattrMap = v
            case ("readonly", nil), ("ro", nil): readOnly = true
            case ("debug", nil): logLevel = .debug
            case ("thread_pool_size", let v?):
                guard let n = Int(v), n >= 0 else { throw ValidationError("bad thread_pool_size '\(v)'") }
                threadPoolSize = n
            case ("posix_lock", nil): posixLocks = true
            case ("no_posix_lock", nil): posixLocks = false
            case ("flock", nil): flockLocks = true
            case ("no_flock", nil): flockLocks = false
            case ("readdirplus", nil): readdirplus = true
            case ("no_readdirplus", nil): readdirplus = false
            case ("timeout", let v?):
                guard let seconds = Double(v), seconds >= 0, seconds < 1e9 else { throw ValidationError("bad timeout '\(v)'") }
                timeout = seconds
            case ("announce_submounts", nil): announceSubmounts = true
            case ("io_uring", nil): fuseIoUring = true
            case ("io_uring_q_depth", let v?):
                guard let n = Int(v), n >= 1, n <= 128 else { throw ValidationError("bad io_uring_q_depth '\(v)' (1...128)") }
                fuseIoUringQueueDepth = n
            case ("syslog", nil): syslog = true
            case ("modcaps", let v?): modcaps = v
            // The defaults, which are also virtiofsd's: nothing to change.
            case ("no_writeback", nil), ("no_posix_acl", nil), ("no_allow_direct_io", nil):
                break
            case ("allow_direct_io", nil): allowDirectIO = true
            case ("killpriv_v2", nil): killprivV2 = true
            case ("no_killpriv_v2", nil): killprivV2 = false
            case ("writeback", nil), ("posix_acl", nil), ("allow_root", nil),
                 ("max_idle_threads", _):
                throw ValidationError(Self.unsupported("-o \(key)"))
            default:
                mountOptions.append(String(item))
            }
        }
    }

    /// Why a virtiofsd option is refused rather than accepted and ignored.
    static func unsupported(_ option: String) -> String {
        "\(option) is not supported by swiftfsd (refused rather than silently ignored)"
    }
}
