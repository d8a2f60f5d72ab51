import FuseMount
import Glibc
import Synchronization
import TestSupport
import Testing

/// FUSE over io_uring against the real kernel. Which tests run depends on
/// /sys/module/fuse/parameters/enable_uring (shared by the whole machine, so
/// the tests never change it; scripts/test sets it for its io_uring step).
extension FuseMountSessionTests {
    static var uringParameter: String? {
        guard let file = fopen("/sys/module/fuse/parameters/enable_uring", "r") else { return nil }
        defer { fclose(file) }
        let value = fgetc(file)
        return value < 0 ? nil : String(UnicodeScalar(UInt8(value)))
    }

    /// This process's io_uring descriptors and mappings (only FuseMount makes rings).
    static func uringResources() -> (descriptors: Int, mappings: Int) {
        var descriptors = 0
        if let directory = opendir("/proc/self/fd") {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                guard Int32(name) != nil else { continue }
                var link = [UInt8](repeating: 0, count: 64)
                let length = readlink("/proc/self/fd/" + name, &link, link.count - 1)
                if length > 0 && String(decoding: link.prefix(length), as: UTF8.self) == "anon_inode:[io_uring]" { descriptors += 1 }
            }
            closedir(directory)
        }
        let maps = HostFiles.readText("/proc/self/maps") ?? ""
        let mappings = maps.split(separator: "\n").filter { $0.contains("io_uring") }.count
        return (descriptors, mappings)
    }

    @Test(.enabled(if: uringParameter == "Y"))
    func ioUringServesFilesLocksAndUnmountsWithoutLeaks() throws {
        let before = Self.uringResources()
        let mounted = try MountedShare(threads: 1, ioUring: FuseUringSettings(queueDepth: 4))
        let data = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        HostFiles.write(mounted.path("big.bin"), data)
        #expect(HostFiles.read(mounted.share + "/big.bin") == data)
        #expect(HostFiles.read(mounted.path("big.bin")) == data)
        for i in 0..<200 { HostFiles.write(mounted.path("f\(i)"), "\(i)") }
        for i in 0..<200 { #expect(unlink(mounted.path("f\(i)")) == 0) }
        // One ring per possible CPU, each with its rings and SQEs mapped.
        let serving = Self.uringResources()
        #expect(serving.descriptors > before.descriptors)

        // A lock wait (SETLKW) must not hold up its queue: the unlock may come through it.
        HostFiles.write(mounted.path("lockfile"), "x")
        let fd = open(mounted.path("lockfile"), O_RDWR)
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        #expect(fcntl(fd, F_SETLK, &lock) == 0)
        let child = fork()
        if child == 0 {
            let fd2 = open(mounted.path("lockfile"), O_RDWR)
            var wait = flock()
            wait.l_type = Int16(F_WRLCK)
            wait.l_whence = Int16(SEEK_SET)
            alarm(10)
            _exit(fcntl(fd2, F_SETLKW, &wait) == 0 ? 0 : 1)
        }
        usleep(300_000)
        // Meanwhile the same queues still serve.
        #expect(HostFiles.readText(mounted.path("lockfile")) == "x")
        lock.l_type = Int16(F_UNLCK)
        #expect(fcntl(fd, F_SETLK, &lock) == 0)
        var status: Int32 = 0
        waitpid(child, &status, 0)
        #expect(status == 0, "the waiting child got the lock once it was released (status \(status))")
        close(fd)

        mounted.stop()
        let finished = mounted.finished.load(ordering: .acquiring)
        let runError = mounted.runError.withLock { $0 }
        #expect(finished)
        #expect(runError == nil)
        let after = Self.uringResources()
        #expect(after.descriptors == before.descriptors, "every ring is closed once run returns")
        #expect(after.mappings == before.mappings, "every ring mapping is gone once run returns")
    }

    @Test(.enabled(if: uringParameter == "N"))
    func ioUringWhileTheKernelDisablesItFailsClearly() throws {
        var mountTemplate = Array("/tmp/swiftfs-mnt.XXXXXX".utf8CString)
        let mountPoint = String(cString: mkdtemp(&mountTemplate)!)
        defer { rmdir(mountPoint) }
        let session = try FuseMountSession(mountPoint: mountPoint, handler: NoHandler(), ioUring: FuseUringSettings())
        let error = #expect(throws: FuseMountSession.Failure.self) { try session.run() }
        #expect(error?.description.contains("enable_uring") == true)
    }
}
