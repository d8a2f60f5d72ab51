import CShim
import FuseServer
import Glibc
import Logging
import SwiftFSProtocol
import Synchronization
import SystemSupport

/// Why a mount session could not start or serve as asked (one type for every handler).
public struct FuseMountError: Error, CustomStringConvertible {
    public let description: String
}

/// Serves the host kernel through /dev/fuse: mounts, runs worker threads
/// that read requests and write replies, unmounts on SIGINT/SIGTERM and
/// when `run` ends.
///
///     let server = try makePassthroughServer(options: options, logger: logger)
///     let session = try FuseMountSession(mountPoint: "/mnt/share", handler: server,
///                                        options: ["ro"], logger: logger)
///     try session.run()   // returns once the file system is unmounted
///
/// - `options`: `-o` style mount options, each possibly comma-separated
///   (ro, noexec, allow_other, default_permissions, max_read=N, fsname=,
///   subtype=...). allow_other and default_permissions are on by default.
/// - `threads`: worker threads; each beyond the first reads its own
///   /dev/fuse descriptor cloned with FUSE_DEV_IOC_CLONE. A request the
///   handler says may block (SETLKW) runs on a thread of its own, so one
///   worker is enough (the default): the kernel wakes the reader that has
///   waited longest, so with several each request woke another, cold thread,
///   which cost more CPU than the daemon's own work (docs/benchmarks.md).
///   More workers serve requests of concurrent callers in parallel.
/// - `bufferSize`: per-thread request and reply buffer (allocated once);
///   must hold the largest request: FuseServerOptions.requestBufferSize.
/// - `ioUring`: serve requests through FUSE over io_uring (Linux 6.14+, with
///   /sys/module/fuse/parameters/enable_uring set): one queue thread per
///   CPU, each with `queueDepth` ring entries. INIT, FORGET and INTERRUPT
///   still come through read(); `run` fails if the kernel does not allow it.
///
/// Mounting uses mount(2), so the daemon must run as root (CAP_SYS_ADMIN).
/// `run` blocks SIGINT and SIGTERM in the calling thread and the workers and
/// waits for them there: call it from the main thread before other threads
/// exist (or block those signals in them). `unmount()` may be called from
/// any thread to end the session.
///
/// Generic over the handler so the workers' calls into it are specialized
/// (an `any FuseRequestHandler` left the FUSE core unspecialized).
public final class FuseMountSession<Handler: FuseRequestHandler>: Sendable {
    public let mountPoint: String
    let handler: Handler
    let mountOptions: FuseMountOptions
    let threadCount: Int
    let bufferSize: Int
    let logger: Logger
    let ioUring: FuseUringSettings?
    private let mounted = Atomic<Bool>(false)
    let workers = FuseWorkerSet()
    /// Why the session could not serve as asked (io_uring refused): `run` throws it.
    let failure = Mutex<String?>(nil)

    public typealias Failure = FuseMountError

    /// Parses the options before any stored property is set (a convenience init): the compiler's
    /// cross-module optimization crashed specializing a throw after `mounted` was initialized.
    public convenience init(mountPoint: String, handler: Handler, options: [String] = [], threads: Int = 1,
                            bufferSize: Int = FuseServerOptions().requestBufferSize,
                            ioUring: FuseUringSettings? = nil,
                            logger: Logger = Logger(label: "swiftfs.fuse-mount")) throws {
        let parsed: FuseMountOptions
        do { parsed = try FuseMountOptions(options) } catch { throw Failure(description: error.description) }
        self.init(mountPoint: mountPoint, handler: handler, mountOptions: parsed, threads: threads,
                  bufferSize: bufferSize, ioUring: ioUring, logger: logger)
    }

    private init(mountPoint: String, handler: Handler, mountOptions: FuseMountOptions, threads: Int,
                 bufferSize: Int, ioUring: FuseUringSettings?, logger: Logger) {
        self.mountPoint = mountPoint
        self.handler = handler
        self.mountOptions = mountOptions
        self.threadCount = max(1, threads)
        self.bufferSize = max(bufferSize, FuseProtocol.minReadBuffer)
        self.logger = logger
        self.ioUring = ioUring
    }

    /// Mounts, serves until the file system is unmounted (by `unmount()`, a
    /// signal, or `umount` from outside), then makes sure it is unmounted.
    public func run() throws {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        if ioUring != nil { try FuseUringSettings.checkKernel() }
        // Each worker holds the device it reads (its own clone, or the session's):
        // if run gives up on busy workers, they keep theirs until they end.
        let session = try mount()

        for index in 0..<threadCount {
            let device = index == 0 ? session : session.clone(logger: logger) ?? session
            let started = workers.start(name: "swiftfs-fuse-\(index)") { [self] in
                serve(device, worker: index, session: session)
            }
            guard started else {
                logger.warning("could not start worker \(index); serving with \(workers.count)")
                break
            }
        }
        if workers.count == 0 {
            unmount()
            throw Failure(description: "no worker thread could be started")
        }

        // Wait for the workers, turning SIGINT/SIGTERM into an unmount. If files
        // on the mount are still open the lazy unmount leaves the connection
        // alive: after 2 s it is aborted (fusectl), after 3 s run returns anyway.
        let control = FuseConnectionControl(mountPoint: mountPoint)
        var pause = timespec(tv_sec: 0, tv_nsec: 200_000_000)
        var stopRequested: ContinuousClock.Instant?
        var aborted = false
        while !workers.allEnded {
            let signal = sigtimedwait(&signals, nil, &pause)
            if signal == SIGINT || signal == SIGTERM {
                logger.info("signal \(signal): unmounting \(mountPoint)")
                unmount()
                stopRequested = stopRequested ?? .now
            }
            if stopRequested == nil && !mounted.load(ordering: .acquiring) { stopRequested = .now } // unmount()
            guard let since = stopRequested else { continue }
            if !aborted && ContinuousClock.now - since > .seconds(2) {
                aborted = true
                let ok = control?.abort() ?? false
                logger.warning("\(mountPoint) still in use: \(ok ? "aborted the FUSE connection" : "cannot abort the connection (no fusectl)")")
            }
            if ContinuousClock.now - since > .seconds(3) {
                logger.warning("workers still busy; leaving them (and their descriptors) to process exit")
                if let failure = failure.withLock({ $0 }) { throw Failure(description: failure) }
                return
            }
        }
        workers.joinAll()
        unmount()
        logger.info("unmounted \(mountPoint)")
        if let failure = failure.withLock({ $0 }) { throw Failure(description: failure) }
    }

    /// Detaches the mount; the kernel then ends the connection (once nothing
    /// on it is in use), and the workers' reads fail with ENODEV.
    public func unmount() {
        guard mounted.exchange(false, ordering: .acquiringAndReleasing) else { return }
        if shim_umount2(mountPoint, shim_MNT_DETACH) != 0 {
            logger.warning("umount \(mountPoint): errno \(errno)")
        }
    }

    private func mount() throws -> FuseDevice {
        var st = stat()
        guard stat(mountPoint, &st) == 0 else { throw Failure(description: "mount point \(mountPoint): errno \(errno)") }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw Failure(description: "mount point \(mountPoint) is not a directory") }
        guard let device = FuseDevice.open() else { throw Failure(description: "open /dev/fuse: errno \(errno)") }
        let data = mountOptions.dataString(fd: device.fd, uid: getuid(), gid: getgid())
        guard shim_mount(mountOptions.source, mountPoint, mountOptions.type, mountOptions.flags, data) == 0 else {
            let error = errno
            throw Failure(description: "mount \(mountPoint) (\(mountOptions.type), \(data)): errno \(error)")
        }
        mounted.store(true, ordering: .releasing)
        logger.info("mounted \(mountOptions.source) at \(mountPoint) (\(data))")
        return device
    }

    /// One worker: read a request, let the handler answer, write the reply.
    private func serve(_ device: FuseDevice, worker: Int, session: FuseDevice) {
        let fd = device.fd
        let request = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 4096)
        let reply = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 4096)
        defer {
            request.deallocate()
            reply.deallocate()
        }
        while true {
            let count = Glibc.read(fd, request, bufferSize)
            if count < 0 {
                switch errno {
                case EINTR, EAGAIN, ENOENT: continue // ENOENT: the request was interrupted before we read it
                case ENODEV: return // unmounted
                default:
                    logger.error("read /dev/fuse: errno \(errno)")
                    return
                }
            }
            if count == 0 { return }
            if ioUring != nil,
               ByteReader(UnsafeRawBufferPointer(start: request, count: count)).read(FuseInHeader.self, at: 0)?.opcode
                == FuseOpcode.`init`.rawValue {
                answerInitForIoUring(fd: fd, request: UnsafeRawBufferPointer(start: request, count: count),
                                     reply: UnsafeMutableRawBufferPointer(start: reply, count: bufferSize), session: session)
                continue
            }
            let requestBytes = UnsafeRawBufferPointer(start: request, count: count)
            let head = handler.readHead(requestBytes)
            if head.mayBlock && serveOnItsOwnThread(requestBytes, head: head, device: device) { continue }
            let length = handler.handle(head: head, request: requestBytes,
                                        reply: UnsafeMutableRawBufferPointer(start: reply, count: bufferSize))
            guard length > 0 else { continue }
            if Glibc.write(fd, reply, length) < 0 {
                switch errno {
                case ENOENT: break // the kernel dropped the request (interrupted)
                case ENODEV: return
                default: logger.warning("write /dev/fuse: errno \(errno)")
                }
            }
        }
    }
}
