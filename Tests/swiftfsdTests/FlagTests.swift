import CShim
import Foundation
import Glibc
import Testing

/// Issue 6, finding 6: a flag is implemented or refused by name, never
/// accepted and ignored; and the daemon confines itself (capabilities).
@Suite(.serialized) struct FlagTests {
    let work: URL
    init() throws { work = try TemporaryDirectory.make(prefix: "swiftfsd-flags") }

    func arguments(_ extra: [String]) -> [String] {
        ["--socket-path", work.path + "/vhost.sock", "--shared-dir", work.path, "--sandbox", "none"] + extra
    }

    @Test func refusedFlagsExitNonZeroNamingTheFlag() throws {
        let refused: [([String], String)] = [
            (["--writeback"], "--writeback"), (["-o", "writeback"], "writeback"), (["--posix-acl"], "--posix-acl"),
            (["-o", "killpriv_v2", "--dax-size", "2M"], "killpriv_v2"), (["-o", "allow_root"], "allow_root"),
            (["-o", "max_idle_threads=10"], "max_idle_threads"), (["--seccomp", "sometimes"], "--seccomp"),
            (["-o", "security_label"], "security_label"),
            // FUSE over io_uring is for --fuse-mount only, and its depth needs it and a sane value.
            (["-o", "io_uring"], "io_uring"), (["-o", "io_uring_q_depth=4"], "io_uring_q_depth"),
        ]
        for (extra, flag) in refused {
            let (status, message) = try DaemonProcess.run(arguments(extra))
            #expect(status != 0, "\(extra) accepted")
            #expect(message.contains(flag), "\(extra): \(message)")
        }
        #expect(access(work.path + "/vhost.sock", F_OK) != 0, "a refused command line creates no socket")
    }

    @Test func ioUringDepthIsCheckedBeforeMounting() throws {
        let mount = ["--fuse-mount", work.path, "--shared-dir", work.path, "--sandbox", "none"]
        for extra in [["-o", "io_uring,io_uring_q_depth=0"], ["-o", "io_uring_q_depth=4"], ["-o", "io_uring_q_depth=x,io_uring"]] {
            let (status, message) = try DaemonProcess.run(mount + extra)
            #expect(status != 0, "\(extra) accepted")
            #expect(message.contains("io_uring_q_depth"), "\(extra): \(message)")
        }
    }

    /// Bits of a /proc/PID/status capability line.
    func statusField(_ pid: pid_t, _ field: String) throws -> String {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") }
        return line.map { $0.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces) } ?? ""
    }

    func capabilities(_ names: [Int]) -> String {
        String(format: "%016llx", names.reduce(UInt64(0)) { $0 | (1 << UInt64($1)) })
    }

    @Test(.enabled(if: geteuid() == 0)) func theDaemonKeepsOnlyThePassthroughCapabilitiesAndNoNewPrivileges() throws {
        let daemon = try DaemonProcess(arguments(["--sandbox", "namespace"]))
        defer { daemon.stop() }
        #expect(eventually { daemon.stderr.contains("waiting for a vhost-user front end") }, "\(daemon.stderr)")
        let serving = daemon.servingPid
        #expect(serving != daemon.pid, "the namespace sandbox serves from a child")
        // chown, dac_override, dac_read_search (inode file handles are on as root), fowner, fsetid,
        // setgid, setuid, mknod, setfcap
        let expected = capabilities([0, 1, 2, 3, 4, 6, 7, 27, 31])
        #expect(try statusField(serving, "CapEff") == expected)
        #expect(try statusField(serving, "CapPrm") == expected)
        #expect(try statusField(serving, "CapBnd") == expected)
        #expect(try statusField(serving, "CapInh") == capabilities([]))
        #expect(try statusField(serving, "NoNewPrivs") == "1")
        #expect(try statusField(serving, "Seccomp") == "2", "the seccomp filter is on by default")
    }

    /// Without inode file handles nothing reopens by handle: dac_read_search goes too.
    @Test(.enabled(if: geteuid() == 0)) func withoutFileHandlesDacReadSearchIsDropped() throws {
        let daemon = try DaemonProcess(arguments(["--inode-file-handles", "never"]))
        defer { daemon.stop() }
        #expect(eventually { daemon.stderr.contains("waiting for a vhost-user front end") }, "\(daemon.stderr)")
        let expected = capabilities([0, 1, 3, 4, 6, 7, 27, 31])
        #expect(try statusField(daemon.pid, "CapEff") == expected)
        #expect(try statusField(daemon.pid, "CapBnd") == expected)
    }

    @Test func seccompNoneRunsWithoutAFilterAndKillWithOne() throws {
        for (action, mode) in [("none", "0"), ("kill", "2"), ("log", "2"), ("trap", "2")] {
            let daemon = try DaemonProcess(arguments(["--seccomp", action]))
            defer { daemon.stop() }
            #expect(eventually { daemon.stderr.contains("waiting for a vhost-user front end") }, "\(daemon.stderr)")
            #expect(try statusField(daemon.pid, "Seccomp") == mode, "--seccomp \(action)")
        }
    }

    @Test(.enabled(if: geteuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0))
    func supplementaryGroupsOfTheStarterAreDropped() throws {
        let daemon = try DaemonProcess(arguments([]), launcher: ["/usr/bin/setpriv", "--groups", "4,24", "--"])
        defer { daemon.stop() }
        #expect(eventually { daemon.stderr.contains("waiting for a vhost-user front end") }, "\(daemon.stderr)")
        #expect(try statusField(daemon.pid, "Groups") == "")
    }

    @Test(.enabled(if: geteuid() == 0)) func modcapsAddsAndRemovesCapabilities() throws {
        let daemon = try DaemonProcess(arguments(["-o", "modcaps=+sys_admin:-mknod"]))
        defer { daemon.stop() }
        #expect(eventually { daemon.stderr.contains("waiting for a vhost-user front end") }, "\(daemon.stderr)")
        let expected = capabilities([0, 1, 2, 3, 4, 6, 7, 21, 31])
        #expect(try statusField(daemon.pid, "CapEff") == expected)
        #expect(try statusField(daemon.pid, "CapBnd") == expected)
    }

    /// --syslog: the log goes to /dev/log. Only where no syslog daemon owns /dev/log (we stand in for one).
    @Test(.enabled(if: geteuid() == 0 && access("/dev/log", F_OK) != 0)) func syslogSendsTheLogToDevLog() throws {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd); unlink("/dev/log") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in "/dev/log".utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { shim_bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        // A share that does not exist: the daemon logs why and exits.
        let (status, stderr) = try DaemonProcess.run(["--socket-path", work.path + "/s", "--shared-dir", work.path + "/missing",
                                                      "--sandbox", "none", "--syslog"])
        #expect(status != 0)
        #expect(!stderr.contains("cannot share"), "logged to stderr: \(stderr)")
        var buffer = [UInt8](repeating: 0, count: 4096)
        var received = ""
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while poll(&descriptor, 1, 2000) == 1 {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { break }
            received += String(decoding: buffer[0..<n], as: UTF8.self) + "\n"
        }
        #expect(received.contains("swiftfsd[") && received.contains("cannot share"), "syslog got: \(received)")
    }
}
