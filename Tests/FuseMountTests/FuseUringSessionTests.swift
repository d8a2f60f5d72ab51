import CShim
@testable import FuseMount
import SwiftFSProtocol
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

        // A lock wait (SETLKW) must not hold up its queue: the unlock may come through it. Two
        // processes pinned to CPU 0 (so both use queue 0): one holds the lock, reads through the
        // mount while the other waits for the lock, then unlocks.
        HostFiles.write(mounted.path("lockfile"), "x")
        func lockProcess(wait: Bool) -> pid_t {
            let child = fork()
            guard child == 0 else { return child }
            alarm(10)
            guard shim_pin_to_cpu(0) == 0 else { _exit(3) }
            let fd = open(mounted.path("lockfile"), O_RDWR)
            var lock = flock()
            lock.l_type = Int16(F_WRLCK)
            lock.l_whence = Int16(SEEK_SET)
            if wait {
                usleep(100_000)
                _exit(fcntl(fd, F_SETLKW, &lock) == 0 ? 0 : 1)
            }
            guard fcntl(fd, F_SETLK, &lock) == 0 else { _exit(4) }
            usleep(400_000)
            guard HostFiles.readText(mounted.path("lockfile")) == "x" else { _exit(5) }
            lock.l_type = Int16(F_UNLCK)
            _exit(fcntl(fd, F_SETLK, &lock) == 0 ? 0 : 6)
        }
        let holder = lockProcess(wait: false)
        let waiter = lockProcess(wait: true)
        var holderStatus: Int32 = 0, waiterStatus: Int32 = 0
        waitpid(holder, &holderStatus, 0)
        waitpid(waiter, &waiterStatus, 0)
        #expect(holderStatus == 0, "the holder read through queue 0 while the other waited, then unlocked (status \(holderStatus))")
        #expect(waiterStatus == 0, "the waiting process got the lock once it was released (status \(waiterStatus))")

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
        let error = #expect(throws: FuseMountError.self) { try session.run() }
        #expect(error?.description.contains("enable_uring") == true)
    }

    /// The kernel offers FUSE_OVER_IO_URING in INIT only while enable_uring is on: without the offer
    /// INIT is answered with an error (the mount then refuses every access) and the session fails.
    @Test func anInitWithoutTheIoUringOfferIsRefused() throws {
        let session = try FuseMountSession(mountPoint: "/nonexistent", handler: NoHandler(), ioUring: FuseUringSettings())
        guard let device = FuseDevice.open() else { Issue.record("open /dev/fuse: \(errno)"); return }
        var pipeFds: [Int32] = [0, 0]
        #expect(pipe(&pipeFds) == 0)
        defer { close(pipeFds[0]); close(pipeFds[1]) }
        var header = FuseInHeader()
        header.len = UInt32(FuseInHeader.wireSize + FuseInitIn.wireSize)
        header.opcode = 26
        header.unique = 5
        var initIn = FuseInitIn()
        initIn.major = 7
        initIn.minor = 42
        initIn.flags = UInt32(FuseInitFlags.initExt.rawValue) // flags2 without FUSE_OVER_IO_URING
        let request = withUnsafeBytes(of: header) { Array($0) } + withUnsafeBytes(of: initIn) { Array($0) }
        var reply = [UInt8](repeating: 0, count: 4096)
        request.withUnsafeBytes { requestBytes in
            reply.withUnsafeMutableBytes { replyBytes in
                session.answerInitForIoUring(fd: pipeFds[1], request: requestBytes, reply: replyBytes, session: device)
            }
        }
        var answer = [UInt8](repeating: 0, count: 64)
        let count = read(pipeFds[0], &answer, answer.count)
        #expect(count == FuseOutHeader.wireSize)
        let out = answer.withUnsafeBytes { (error: $0.load(fromByteOffset: 4, as: Int32.self), unique: $0.load(fromByteOffset: 8, as: UInt64.self)) }
        #expect(out.error == -EPROTO && out.unique == 5)
        let failure = session.failure.withLock { $0 }
        #expect(failure?.contains("did not offer FUSE_OVER_IO_URING") == true, "\(String(describing: failure))")
        #expect(session.workers.count == 0, "no queue thread started")
    }
}
