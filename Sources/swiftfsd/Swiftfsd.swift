import ArgumentParser
import Glibc
import Logging
import Passthrough

/// swiftfsd: a virtio-fs back end (vhost-user) serving a host directory,
/// with the command line of virtiofsd.
@main
struct Swiftfsd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftfsd",
        abstract: "Share a host directory with a virtual machine over virtio-fs (vhost-user).",
        version: "swiftfsd 0.1.0")

    @Option(help: "Directory to share.")
    var sharedDir: String?

    @Option(help: "vhost-user socket path to listen on.")
    var socketPath: String?

    @Option(help: "Group owning the socket (it is then made group read-writable).")
    var socketGroup: String?

    @Option(help: "Already listening vhost-user socket descriptor.")
    var fd: Int32?

    @Option(help: "Tag (QEMU's vhost-user-fs sets the guest-visible tag; used for logs).")
    var tag: String?

    @Option(help: "Cache mode (default auto; `none` is accepted for never).")
    var cache: CacheMode?

    @Option(help: "Threads processing requests in parallel (default 0: each queue's thread does the work, blocking lock requests get threads of their own).")
    var threadPoolSize: Int?

    @Option(help: "Sandbox: namespace (default; new PID, mount, network and IPC namespaces, a user namespace when not root, pivot_root into the shared directory), chroot, or none. --fuse-mount supports none only.")
    var sandbox: SandboxMode?

    @Flag(inversion: .prefixedNo, help: "Extended attributes (default on).")
    var xattr: Bool?

    @Flag(help: "Share read-only.")
    var readonly = false

    @Option(help: ArgumentHelp("Set RLIMIT_NOFILE (soft and hard) to N; 0 leaves it alone (default: raise the soft limit to the hard one, and as root both up to fs.nr_open).", valueName: "N"))
    var rlimitNofile: Int?

    @Option(help: "Identify inodes by kernel file handles instead of an open descriptor each, so the guest may hold more files than the daemon may open (default prefer as root, never otherwise).")
    var inodeFileHandles: InodeFileHandles?

    @Option(help: ArgumentHelp("Descriptors kept open for inodes named by file handles (default: half the open file limit).", valueName: "N"))
    var inodeDescriptorCache: Int?

    @Option(help: "Log level (default info).")
    var logLevel: LogLevel?

    @Flag(help: "Print the vhost-user back-end capabilities (JSON) and exit.")
    var printCapabilities = false

    @Option(help: ArgumentHelp("Serve the host kernel through /dev/fuse at this mount point instead of vhost-user.",
                               valueName: "mountpoint"))
    var fuseMount: String?

    @Option(help: ArgumentHelp("DAX window for QEMU 7.2: a file (e.g. in /dev/shm, at least --dax-size bytes) that QEMU also maps, as `-object memory-backend-file,id=dax,mem-path=PATH,size=SIZE,share=on -device ivshmem-plain,memdev=dax`; mapped file ranges are copied into it and written back.", valueName: "path"))
    var daxWindow: String?

    @Option(help: ArgumentHelp("DAX window size: bytes or with a K/M/G suffix, a multiple of 2M. With --dax-window, the bytes of that file to use; alone, the shared memory region offered to a front end with the vhost-user SHMEM feature (QEMU 7.2 has none).", valueName: "size"))
    var daxSize: String?

    @Option(name: .customShort("o"), help: ArgumentHelp("virtiofsd compatible options: source=DIR,cache=MODE,xattr,no_xattr,sandbox=MODE,log_level=LEVEL,... (others are passed to --fuse-mount).", valueName: "options"))
    var compatOptions: [String] = []

    @Flag(name: .customShort("f"), help: "Foreground (always; accepted for compatibility).")
    var foreground = false

    @Flag(name: .customShort("d"), help: "Debug logging (same as --log-level debug).")
    var debug = false

    @Flag(help: "Tell the guest which directories are mount points (FUSE submounts).")
    var announceSubmounts = false

    @Flag(help: "Log to syslog instead of stderr.")
    var syslog = false

    @Flag(help: "Honour the guest's O_DIRECT (default: dropped, as virtiofsd does).")
    var allowDirectIo = false

    @Flag(help: "Do not offer READDIRPLUS (the guest then looks each name up).")
    var noReaddirplus = false

    @Flag(name: .customLong("killpriv-v2"), inversion: .prefixedNo,
          help: "Offer FUSE_HANDLE_KILLPRIV_V2 (default off, as virtiofsd): the daemon clears suid/sgid on the guest's writes, truncations and O_TRUNC opens, and the guest skips most of its security.capability checks before writes. Not with --dax-window.")
    var killprivV2: Bool?

    @Option(help: ArgumentHelp("Extended attribute name mapping, virtiofsd's syntax (e.g. ':map:trusted.:user.virtiofs.:'). Default: trusted.* refused, security.* unsupported (EOPNOTSUPP), the rest passed through.",
                               valueName: "mapping"))
    var xattrmap: String?

    @Option(help: ArgumentHelp("Capabilities kept besides the default set, e.g. +sys_admin:-mknod.", valueName: "changes"))
    var modcaps: String?

    @Option(help: "What a system call outside the daemon's allowlist does: kill (default), log, trap, or none (no filter).")
    var seccomp: SeccompAction?

    // Options of virtiofsd that swiftfsd does not implement: refused by name (see settings()).
    @Flag(help: .hidden) var posixAcl = false
    @Flag(help: .hidden) var writeback = false

    /// Long options win over -o, as they are more specific.
    func settings() throws -> DaemonSettings {
        var settings = DaemonSettings()
        for argument in compatOptions { try settings.apply(compatOptions: argument) }
        if let sharedDir { settings.sharedDirectory = sharedDir }
        if let socketPath { settings.socketPath = socketPath }
        if let socketGroup { settings.socketGroup = socketGroup }
        if let fd { settings.listeningFd = fd }
        if let tag { settings.tag = tag }
        if let cache { settings.cache = cache }
        if let threadPoolSize { settings.threadPoolSize = threadPoolSize }
        if let sandbox { settings.sandbox = sandbox }
        if let xattr { settings.xattr = xattr }
        if readonly { settings.readOnly = true }
        if let rlimitNofile { settings.rlimitNofile = rlimitNofile }
        if let inodeFileHandles { settings.inodeFileHandles = inodeFileHandles }
        if let inodeDescriptorCache { settings.inodeDescriptorCache = inodeDescriptorCache }
        if debug { settings.logLevel = .debug }
        if let logLevel { settings.logLevel = logLevel }
        settings.fuseMountPoint = fuseMount
        settings.daxWindow = daxWindow
        if let daxSize {
            guard let size = DaemonSettings.parseSize(daxSize), size > 0, size % (2 << 20) == 0 else {
                throw ValidationError("--dax-size '\(daxSize)' is not a positive multiple of 2M (bytes, or with a K, M or G suffix)")
            }
            settings.daxSize = size
        }
        if announceSubmounts { settings.announceSubmounts = true }
        if syslog { settings.syslog = true }
        if allowDirectIo { settings.allowDirectIO = true }
        if noReaddirplus { settings.readdirplus = false }
        if let killprivV2 { settings.killprivV2 = killprivV2 }
        if let xattrmap { settings.xattrMap = xattrmap }
        if let modcaps { settings.modcaps = modcaps }
        if let seccomp { settings.seccomp = seccomp }
        for (flag, given) in [("--posix-acl", posixAcl), ("--writeback", writeback)] where given {
            throw ValidationError(DaemonSettings.unsupported(flag))
        }
        return settings
    }

    func validate() throws {
        if printCapabilities { return }
        let settings = try settings()
        guard settings.sharedDirectory != nil else { throw ValidationError("--shared-dir (or -o source=DIR) is required") }
        guard (0...1024).contains(settings.vhostThreadPoolSize) else {
            throw ValidationError("--thread-pool-size must be between 0 and 1024")
        }
        if let n = settings.rlimitNofile, n < 0 { throw ValidationError("--rlimit-nofile must be 0 or more") }
        if let n = settings.inodeDescriptorCache, n < 1 { throw ValidationError("--inode-descriptor-cache must be at least 1") }
        let transports = [settings.socketPath != nil, settings.listeningFd != nil, settings.fuseMountPoint != nil]
        guard transports.filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --socket-path, --fd, --fuse-mount")
        }
        if settings.fuseMountPoint != nil, let sandbox = settings.sandbox, sandbox != .none {
            throw ValidationError("--sandbox \(sandbox.rawValue): --fuse-mount runs without a sandbox (it unmounts its mount point by path); give --sandbox none")
        }
        if settings.daxWindow != nil && settings.daxSize == nil {
            throw ValidationError("--dax-window needs --dax-size")
        }
        if settings.daxSize != nil && settings.fuseMountPoint != nil {
            throw ValidationError("--dax-window/--dax-size need a vhost-user front end, not --fuse-mount")
        }
        if settings.killprivV2 && settings.daxSize != nil {
            // With killpriv_v2 the guest leaves clearing suid/sgid to the daemon, but its writes
            // through the DAX window never reach the daemon: the bits would survive them.
            throw ValidationError("--killpriv-v2 / -o killpriv_v2 cannot be combined with --dax-window/--dax-size: writes through the DAX window bypass the daemon, which could then not clear setuid/setgid bits")
        }
        if let text = settings.xattrMap {
            do { _ = try XattrMap(parsing: text) } catch { throw ValidationError("--xattrmap: \(error)") }
        }
        if let seccomp = settings.seccomp, seccomp != .none {
            guard settings.fuseMountPoint == nil else {
                throw ValidationError("--seccomp=\(seccomp.rawValue): not supported with --fuse-mount (it runs without a filter)")
            }
            guard SeccompFilter.supported else { throw ValidationError("--seccomp=\(seccomp.rawValue): only supported on x86-64") }
        }
        if let modcaps = settings.modcaps {
            guard settings.fuseMountPoint == nil else {
                throw ValidationError("-o modcaps / --modcaps: --fuse-mount keeps the capabilities it needs to unmount")
            }
            do { _ = try CapabilitySet.passthrough.modified(by: modcaps) } catch { throw ValidationError("\(error)") }
        }
        if settings.fuseMountPoint == nil && (settings.fuseIoUring || settings.fuseIoUringQueueDepth != nil) {
            throw ValidationError("-o io_uring / io_uring_q_depth: only for --fuse-mount (FUSE over io_uring on /dev/fuse)")
        }
        if settings.fuseIoUringQueueDepth != nil && !settings.fuseIoUring {
            throw ValidationError("-o io_uring_q_depth needs -o io_uring")
        }
        if settings.fuseMountPoint == nil, let unknown = settings.mountOptions.first {
            throw ValidationError("unknown -o option '\(unknown)' (only --fuse-mount passes -o options to the kernel)")
        }
    }

    func run() throws {
        if printCapabilities {
            print(Capabilities.json)
            return
        }
        let settings = try settings()
        if settings.effectiveSandbox == .namespace {
            // Nothing from whoever started us may reach into the sandbox.
            Sandbox.closeInheritedDescriptors(keeping: [0, 1, 2] + (settings.listeningFd.map { [$0] } ?? []))
        }
        let level = settings.logLevel.level
        if settings.syslog {
            SyslogLogHandler.open()
            LoggingSystem.bootstrap { label in SyslogLogHandler(label: label, level: level) }
        } else {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        var logger = Logger(label: "swiftfsd")
        logger.logLevel = level
        do {
            try Daemon(settings: settings, logger: logger).run()
        } catch {
            logger.error("\(error)")
            throw ExitCode.failure
        }
    }
}
