import CShim
import FuseServer
import Glibc
import Logging
import VhostUser

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
        let listener: SocketListener
        if let path = settings.socketPath {
            listener = try SocketListener(path: path)
        } else {
            listener = SocketListener(listeningFd: settings.listeningFd!)
        }
        let removeSocket = listener.remover
        installSignalHandling(cleanup: removeSocket)

        // Everything that can fail before serving; a failure leaves no socket file behind.
        let handler: any FuseRequestHandler
        do {
            if let path = settings.socketPath, let group = settings.socketGroup { try giveSocket(at: path, to: group) }
            handler = try FileSystemFactory.makeHandler(settings: settings, logger: logger)
            try Sandbox.enter(settings.sandbox, sharedDirectory: settings.sharedDirectory!)
        } catch {
            removeSocket()
            throw error
        }
        logger.info("waiting for a vhost-user front end on \(settings.socketPath ?? "fd \(settings.listeningFd!)")")

        let connection: VhostUserConnection
        do {
            connection = try listener.accept()
        } catch {
            removeSocket()
            throw error
        }
        logger.info("front end connected\(settings.tag.map { " (tag \($0))" } ?? "")")
        let backend = VhostUserBackend(handler: handler,
                                       configuration: .init(threadPoolSize: settings.vhostThreadPoolSize),
                                       logger: logger)
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
        let handler = try FileSystemFactory.makeHandler(settings: settings, logger: logger)
        // Each /dev/fuse worker holds two request-sized buffers: keep the session's default unless asked.
        let session: FuseMountSession
        if let threads = settings.threadPoolSize {
            session = try FuseMountSession(mountPoint: mountPoint, handler: handler, options: settings.mountOptions,
                                           threads: max(1, threads), logger: logger)
        } else {
            session = try FuseMountSession(mountPoint: mountPoint, handler: handler, options: settings.mountOptions,
                                           logger: logger)
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

    /// SIGTERM/SIGINT/SIGHUP: remove the socket and exit 0. A dedicated
    /// thread waits for them with sigwait, so no work happens in a signal handler.
    private func installSignalHandling(cleanup: @escaping @Sendable () -> Void) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, signal) }
        // Blocked before any other thread exists, so every thread inherits the mask.
        pthread_sigmask(SIG_BLOCK, &set, nil)
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
