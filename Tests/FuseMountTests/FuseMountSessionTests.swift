import FuseMount
import FuseServer
import Glibc
import Passthrough
import ScatterGather
import Synchronization
import SystemSupport
import TestSupport
import Testing

/// The /dev/fuse transport against the real kernel: mount a share, use it
/// through ordinary system calls, unmount. Needs root and /dev/fuse.
@Suite(.serialized, .enabled(if: geteuid() == 0 && access("/dev/fuse", R_OK | W_OK) == 0))
struct FuseMountSessionTests {
    /// A mounted share: `share` on the host, `mountPoint` through FUSE.
    final class MountedShare: @unchecked Sendable {
        let share: String
        let mountPoint: String
        let session: FuseMountSession<FuseServer<PassthroughFileSystem>>
        let finished = Atomic<Bool>(false)
        let runError = Mutex<String?>(nil)

        init(options: [String] = [], threads: Int = 3, ioUring: FuseUringSettings? = nil) throws {
            var shareTemplate = Array("/tmp/swiftfs-share.XXXXXX".utf8CString)
            var mountTemplate = Array("/tmp/swiftfs-mnt.XXXXXX".utf8CString)
            share = String(cString: mkdtemp(&shareTemplate)!)
            mountPoint = String(cString: mkdtemp(&mountTemplate)!)
            let server = try makePassthroughServer(options: PassthroughOptions(sharedDir: share))
            session = try FuseMountSession(mountPoint: mountPoint, handler: server, options: options, threads: threads,
                                           ioUring: ioUring)
            let started = Atomic<Bool>(false)
            NativeThread(name: "fuse-session") { [self] in
                started.store(true, ordering: .releasing)
                do { try session.run() } catch {
                    print("run failed: \(error)")
                    runError.withLock { $0 = "\(error)" }
                }
                finished.store(true, ordering: .releasing)
            }.detach()
            while !started.load(ordering: .acquiring) { usleep(1000) }
            // Mounted once the mount point's device differs from its parent's.
            var parent = stat(), mounted = stat()
            stat("/tmp", &parent)
            for _ in 0..<500 {
                if stat(mountPoint, &mounted) == 0 && mounted.st_dev != parent.st_dev { return }
                if finished.load(ordering: .acquiring) { break }
                usleep(10_000)
            }
            session.unmount()
            throw NotMounted(mountPoint: mountPoint)
        }

        struct NotMounted: Error, CustomStringConvertible {
            let mountPoint: String
            var description: String { "\(mountPoint) never became a mount point" }
        }

        func stop() {
            session.unmount()
            for _ in 0..<500 where !finished.load(ordering: .acquiring) { usleep(10_000) }
            rmdir(mountPoint)
            _ = system("rm -rf '\(share)'")
        }

        func path(_ name: String) -> String { mountPoint + "/" + name }
    }

    @Test func filesWrittenThroughTheMountArriveOnTheHost() throws {
        let mounted = try MountedShare()
        defer { mounted.stop() }
        let data = (0..<2_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 1) }
        HostFiles.write(mounted.path("big.bin"), data)
        #expect(HostFiles.read(mounted.share + "/big.bin") == data)
        #expect(HostFiles.read(mounted.path("big.bin")) == data)

        #expect(mkdir(mounted.path("dir"), 0o750) == 0)
        HostFiles.write(mounted.path("dir/inner.txt"), "inner")
        #expect(HostFiles.readText(mounted.share + "/dir/inner.txt") == "inner")
        #expect(rename(mounted.path("dir/inner.txt"), mounted.path("moved.txt")) == 0)
        #expect(HostFiles.readText(mounted.share + "/moved.txt") == "inner")
        #expect(symlink("moved.txt", mounted.path("link")) == 0)
        #expect(HostFiles.readText(mounted.path("link")) == "inner")
        #expect(link(mounted.path("moved.txt"), mounted.path("hard")) == 0)
        var st = stat()
        #expect(stat(mounted.share + "/moved.txt", &st) == 0 && st.st_nlink == 2)
        #expect(unlink(mounted.path("hard")) == 0 && rmdir(mounted.path("dir")) == 0)
        #expect(!HostFiles.exists(mounted.share + "/dir"))
    }

    @Test func hostChangesAreVisibleAndDirectoriesList() throws {
        let mounted = try MountedShare()
        defer { mounted.stop() }
        mkdir(mounted.share + "/many", 0o755)
        for i in 0..<1000 { HostFiles.write(mounted.share + "/many/f\(i)", "\(i)") }
        guard let dir = opendir(mounted.path("many")) else { Issue.record("opendir: \(errno)"); return }
        var names = Set<String>()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            names.insert(name)
        }
        closedir(dir)
        #expect(names.count == 1002)
        #expect(HostFiles.readText(mounted.path("many/f999")) == "999")
    }

    @Test func posixLocksConflictAcrossProcessesThroughTheKernel() throws {
        let mounted = try MountedShare()
        defer { mounted.stop() }
        HostFiles.write(mounted.path("lockfile"), "x")
        let fd = open(mounted.path("lockfile"), O_RDWR)
        defer { close(fd) }
        var lock = Self.writeLock(start: 0, length: 100)
        #expect(fcntl(fd, F_SETLK, &lock) == 0)
        // A child process (another lock owner) sees the lock and our pid.
        let child = fork()
        if child == 0 {
            let fd2 = open(mounted.path("lockfile"), O_RDWR)
            var probe = Self.writeLock(start: 10, length: 1)
            guard fcntl(fd2, F_GETLK, &probe) == 0, probe.l_type == Int16(F_WRLCK), probe.l_pid == getppid() else { _exit(1) }
            probe.l_type = Int16(F_WRLCK)
            guard fcntl(fd2, F_SETLK, &probe) == -1, errno == EAGAIN || errno == EACCES else { _exit(2) }
            _exit(0)
        }
        var status: Int32 = 0
        waitpid(child, &status, 0)
        #expect(status == 0, "child exit status \(status >> 8)")
    }

    @Test func aWaitingLockDoesNotStallTheOneWorker() throws {
        let mounted = try MountedShare(threads: 1)
        defer { mounted.stop() }
        HostFiles.write(mounted.path("waitlock"), "x")
        let fd = open(mounted.path("waitlock"), O_RDWR)
        defer { close(fd) }
        var lock = Self.writeLock()
        #expect(fcntl(fd, F_SETLK, &lock) == 0)
        // A child process (another lock owner) waits for the lock: its SETLKW waits in the daemon.
        let child = fork()
        if child == 0 {
            alarm(20) // never hang the suite: the wait ends with EINTR, the child with 1
            let fd2 = open(mounted.path("waitlock"), O_RDWR)
            var wanted = Self.writeLock()
            guard fcntl(fd2, F_SETLKW, &wanted) == 0 else { _exit(1) }
            _exit(0)
        }
        usleep(300_000)
        // The one worker still serves other requests, the unlock among them.
        HostFiles.write(mounted.path("meanwhile"), "y")
        #expect(HostFiles.readText(mounted.path("meanwhile")) == "y")
        lock.l_type = Int16(F_UNLCK)
        #expect(fcntl(fd, F_SETLK, &lock) == 0)
        var status: Int32 = 0
        waitpid(child, &status, 0)
        #expect(status == 0, "child exit status \(status >> 8)")
    }

    /// A POSIX write lock on [start, start + length) (length 0: to the end of the file).
    static func writeLock(start: Int = 0, length: Int = 0) -> flock {
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = start
        lock.l_len = length
        return lock
    }

    @Test func unmountEndsRun() throws {
        let mounted = try MountedShare(options: ["noexec", "fsname=swiftfs-test"])
        mounted.stop()
        let finished = mounted.finished.load(ordering: .acquiring)
        #expect(finished)
    }

    @Test func unmountWithAFileStillOpenStillEndsRun() throws {
        let mounted = try MountedShare()
        HostFiles.write(mounted.path("held"), "x")
        let fd = open(mounted.path("held"), O_RDONLY)
        #expect(fd >= 0)
        let start = ContinuousClock.now
        mounted.stop()
        let finished = mounted.finished.load(ordering: .acquiring)
        #expect(finished)
        #expect(ContinuousClock.now - start < .seconds(5))
        close(fd)
    }

    /// Descriptors of this process open on /dev/fuse (only this serialized suite opens any).
    static func devFuseDescriptors() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard Int32(name) != nil else { continue }
            var link = [UInt8](repeating: 0, count: 64)
            let length = readlink("/proc/self/fd/" + name, &link, link.count - 1)
            if length > 0 && String(decoding: link.prefix(length), as: UTF8.self) == "/dev/fuse" { count += 1 }
        }
        return count
    }

    /// Workers that `run` left busy in an earlier test close their clones when
    /// they end, after that test returned: wait (a bounded while) until none is left.
    static func devFuseDescriptorsOnceEarlierWorkersEnded() -> Int {
        for _ in 0..<500 where devFuseDescriptors() != 0 { usleep(10_000) }
        return devFuseDescriptors()
    }

    @Test func eachWorkerReadsItsOwnCloneAndRunClosesThemAll() throws {
        let before = Self.devFuseDescriptorsOnceEarlierWorkersEnded()
        let mounted = try MountedShare(threads: 3)
        // The session's descriptor and one clone for each further worker. The mount is up
        // before run() has cloned, so wait for the clones (bounded).
        for _ in 0..<500 where Self.devFuseDescriptors() < before + 3 { usleep(10_000) }
        #expect(Self.devFuseDescriptors() == before + 3)
        mounted.stop()
        let finished = mounted.finished.load(ordering: .acquiring)
        #expect(finished)
        #expect(Self.devFuseDescriptors() == before, "every /dev/fuse descriptor is closed once run returns")
    }

    @Test func reservedMountOptionsAreRefused() {
        #expect(throws: FuseMountSession<NoHandler>.Failure.self) {
            _ = try FuseMountSession(mountPoint: "/tmp", handler: NoHandler(), options: ["fd=3"])
        }
    }

    struct NoHandler: FuseRequestHandler {
        func handle(head: FuseRequestHead, request: inout ScatterReader, reply: inout ScatterWriter) -> Int { 0 }
    }
}
