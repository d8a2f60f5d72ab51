import Foundation
import Glibc
import Testing

/// Issue 6, finding 4: READDIRPLUS must never drop entries silently when a
/// lookup fails. The daemon serves a host FUSE mount; its open-file limit is
/// then lowered so the lookups of a listing run out of descriptors.
@Suite(.serialized, .enabled(if: geteuid() == 0 && access("/dev/fuse", R_OK | W_OK) == 0))
struct ReaddirplusTests {
    @Test func aListingIsCompleteOrFailsNeverSilentlyShort() throws {
        let share = try TemporaryDirectory.make(prefix: "swiftfsd-rdp-share")
        let mountPoint = try TemporaryDirectory.make(prefix: "swiftfsd-rdp-mnt")
        defer { try? FileManager.default.removeItem(at: share); rmdir(mountPoint.path) }
        try FileManager.default.createDirectory(atPath: share.path + "/d", withIntermediateDirectories: false)
        let count = 100
        for i in 0..<count { close(open(share.path + "/d/f\(i)", O_CREAT | O_WRONLY, 0o644)) }

        let daemon = try DaemonProcess(["--fuse-mount", mountPoint.path, "--shared-dir", share.path, "--thread-pool-size", "1"])
        defer { daemon.stop() }
        var parent = stat(), mounted = stat()
        stat("/tmp", &parent)
        #expect(eventually { stat(mountPoint.path, &mounted) == 0 && mounted.st_dev != parent.st_dev }, "\(daemon.stderr)")

        // A few descriptors to spare: enough to open the directory, not to look up a page of entries.
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.pid)/fd").count
        let limiter = Process()
        limiter.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        limiter.arguments = ["--pid", String(daemon.pid), "--nofile=\(open + 6):"]
        try limiter.run()
        limiter.waitUntilExit()
        try #require(limiter.terminationStatus == 0)

        guard let directory = opendir(mountPoint.path + "/d") else {
            Issue.record("opendir: errno \(errno)")
            return
        }
        defer { closedir(directory) }
        var names = Set<String>()
        var failure: Int32 = 0
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                failure = errno
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.insert(name) }
        }
        #expect(failure != 0 || names.count == count,
                "listing returned \(names.count) of \(count) names and no error")
    }
}
