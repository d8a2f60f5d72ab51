import CShim
import FuseMount
import FuseServer
import Glibc
import Logging
import Passthrough
import SystemSupport
import VhostUser
import VhostUserFS

/// The daemon's life: listen, open the share, enter the sandbox, serve one
/// front end, exit 0 when it goes away (as virtiofsd does).
struct Daemon {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let settings: DaemonSettings
    let logger: Logger

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        try OpenFileLimit.apply(settings.rlimitNofile, logger: logger)
        if let mountPoint = settings.fuseMountPoint {
            try serveFuseMount(at: mountPoint)
            return
        }
        let exitSignals = blockExitSignals()
        var listener: SocketListener
        var removePidFile: @Sendable () -> Void = {}
        var pidFile: PidFile?
        if let path = settings.socketPath {
            // Before anything touches the path: a live daemon's socket must survive.
            // The descriptor (and its lock) stays open until the process exits.
            pidFile = try PidFile(path: path + ".pid", guarding: path)
            removePidFile = pidFile!.remover
            do {
                listener = try SocketListener(path: path)
            } catch {
                removePidFile()
                throw error
            }
        } else {
            listener = SocketListener(listeningFd: settings.listeningFd!)
        }
        let socketFile = listener.remover
        var removeSocket: @Sendable () -> Void = { [removePidFile] in
            socketFile.remove()
            removePidFile()
        }

        // Everything that can fail before serving; a failure leaves no socket file behind.
        let handler: FuseServer<PassthroughFileSystem>
        let dax: DaxMapperSlot?
        var userNamespace = false
        do {
            if let path = settings.socketPath, let group = settings.socketGroup { try giveSocket(at: path, to: group) }
            let sandbox = settings.effectiveSandbox
            if sandbox == .namespace {
                // Returns in the confined child only; the parent removes the
                // socket and pid file when it ends, so the child lets go of them.
                userNamespace = try Sandbox.createNamespaces(exitSignals: exitSignals, parentCloses: [listener.fd],
                                                             parentCleanup: removeSocket)
                pidFile?.closeDescriptors()
                listener.closeDirectory()
                socketFile.letGo()
                removeSocket = {}
            }
            dax = try FileSystemFactory.makeDaxSlot(settings: settings)
            handler = try FileSystemFactory.makeHandler(settings: settings, dax: dax, logger: logger)
            try Sandbox.enter(sandbox, sharedDirectory: settings.sharedDirectory!)
            // Before any other thread starts: capabilities are per thread, and new threads inherit them.
            try CapabilitySet.passthrough(for: settings).modified(by: settings.modcaps ?? "").enter(userNamespace: userNamespace)
            // Last: from here on only the allowlisted system calls.
            try SeccompFilter.enter(settings.seccomp ?? (SeccompFilter.supported ? .kill : .none))
        } catch {
            removeSocket()
            throw error
        }
        if let window = settings.daxWindow, let size = settings.daxSize {
            logger.info("DAX window \(window): \(size >> 20) MiB, copies filled and written back by the daemon")
        }
        startSignalThread(exitSignals, cleanup: removeSocket)
        logger.info("waiting for a vhost-user front end on \(settings.socketPath ?? "fd \(settings.listeningFd!)")")

        let connection: VhostUserConnection
        do {
            connection = try listener.accept()
        } catch {
            removeSocket()
            throw error
        }
        logger.info("front end connected\(settings.tag.map { " (tag \($0))" } ?? "")")
        // --dax-size without a window file: offer the standard mechanism (a front end with SHMEM maps files itself).
        var sharedMemory: VirtioFSSharedMemoryOffer?
        if let dax, settings.daxWindow == nil, let size = settings.daxSize {
            sharedMemory = .init(size: size, mappers: dax)
        }
        let backend = VhostUserBackend(device: VirtioFSDevice(handler: handler, sharedMemory: sharedMemory),
                                       configuration: .init(threadPoolSize: settings.vhostThreadPoolSize), logger: logger)
        do {
            try backend.serve(connection)
        } catch {
            // A corrupt control stream ends the session like a disconnect would.
            logger.error("vhost-user connection: \(error)")
        }
        // As virtiofsd: the front end is gone, so is the guest; exit 0 at
        // once (a request blocked on a lock must not hold the exit up).
        removeSocket()
        exit(0)
    }

    /// Serves the host kernel through /dev/fuse. No sandbox: the mount
    /// point lies outside the shared directory and is unmounted by path.
    /// The session handles SIGINT/SIGTERM itself (it unmounts).
    private func serveFuseMount(at mountPoint: String) throws {
        let handler = try FileSystemFactory.makeHandler(settings: settings, dax: nil, logger: logger)
        // Each /dev/fuse worker holds two request-sized buffers: keep the session's default unless asked.
        let ioUring = settings.fuseIoUring
            ? FuseUringSettings(queueDepth: settings.fuseIoUringQueueDepth ?? FuseUringSettings.defaultQueueDepth) : nil
        let session: FuseMountSession<FuseServer<PassthroughFileSystem>>
        if let threads = settings.threadPoolSize {
            session = try FuseMountSession(mountPoint: mountPoint, handler: handler, options: settings.mountOptions,
                                           threads: max(1, threads), ioUring: ioUring, logger: logger)
        } else {
            session = try FuseMountSession(mountPoint: mountPoint, handler: handler, options: settings.mountOptions,
                                           ioUring: ioUring, logger: logger)
        }
        try session.run()
    }

    /// --socket-group: a non-root QEMU in that group may connect.
    private func giveSocket(at path: String, to group: String) throws {
        guard let entry = getgrnam(group) else { throw Failure(description: "unknown group '\(group)'") }
        guard chown(path, uid_t.max, entry.pointee.gr_gid) == 0, chmod(path, 0o660) == 0 else {
            throw Failure(description: "socket \(path) to group \(group): \(String(cString: strerror(errno)))")
        }
    }

    /// SIGTERM/SIGINT/SIGHUP are blocked before any other thread exists, so
    /// every thread inherits the mask; a signal that arrives during start-up
    /// stays pending until the signal thread waits for it.
    private func blockExitSignals() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        return set
    }

    /// SIGTERM/SIGINT/SIGHUP: remove the socket and exit 0. A dedicated
    /// thread waits for them with sigwait, so no work happens in a signal handler.
    private func startSignalThread(_ set: sigset_t, cleanup: @escaping @Sendable () -> Void) {
        let logger = self.logger
        _ = NativeThread(name: "signals") { [set] in
            var set = set
            var received: Int32 = 0
            sigwait(&set, &received)
            logger.info("signal \(received): exiting")
            cleanup()
            exit(0)
        }
    }
}
