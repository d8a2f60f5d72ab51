import CShim
import Foundation
import Glibc
import Testing

/// Issue 6: `--sandbox namespace` (the default). The serving process is PID 1
/// of a new PID namespace, in new mount, network and IPC namespaces, rooted
/// in the share, with a /proc of its own; it keeps no descriptor of anything
/// outside the share but its socket; the started process forwards signals,
/// removes the socket and exits as the serving one did.
@Suite(.serialized, .enabled(if: geteuid() == 0)) struct SandboxTests {
    let work: URL
    let share: String
    init() throws {
        work = try TemporaryDirectory.make(prefix: "swiftfsd-sandbox")
        share = work.path + "/share"
        _ = FileManager.default.createFile(atPath: work.path + "/outside", contents: Data("y".utf8))
        try FileManager.default.createDirectory(atPath: share + "/sub", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: share + "/sub/file", contents: Data("x".utf8))
    }

    var socket: String { work.path + "/vhost.sock" }

    func startDaemon(launcher: [String] = []) throws -> DaemonProcess {
        let daemon = try DaemonProcess(["--socket-path", socket, "--shared-dir", share], launcher: launcher)
        #expect(eventually { daemon.stderr.contains("waiting for a vhost-user front end") }, "\(daemon.stderr)")
        return daemon
    }

    func statusField(_ pid: pid_t, _ field: String) throws -> String {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") }
        return line.map { $0.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces) } ?? ""
    }

    @Test func theServingProcessIsPidOneOfNewNamespaces() throws {
        let daemon = try startDaemon(launcher: ["/usr/bin/setpriv", "--groups", "4,24", "--"])
        defer { daemon.stop() }
        let serving = daemon.servingPid
        try #require(serving != daemon.pid, "no serving child: \(daemon.stderr)")
        let levels = try statusField(serving, "NSpid").split(separator: "\t")
        #expect(levels.count == 2 && levels.last == "1", "NSpid \(levels)")
        for name in ["pid", "mnt", "net", "ipc"] {
            let ours = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/\(name)")
            let its = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(serving)/ns/\(name)")
            #expect(ours != its, "\(name) namespace shared with the host")
        }
        // Its root is the share.
        var root = stat(), shared = stat()
        #expect(stat("/proc/\(serving)/root", &root) == 0 && stat(share, &shared) == 0)
        #expect(root.st_dev == shared.st_dev && root.st_ino == shared.st_ino, "root is not the share")
        #expect(try statusField(serving, "Groups") == "", "supplementary groups dropped")
        // The started process only waits, forwards signals and removes files: dac_override and fowner.
        #expect(try statusField(daemon.pid, "CapEff") == "000000000000000a" && statusField(daemon.pid, "CapBnd") == "000000000000000a")
        #expect(try statusField(daemon.pid, "NoNewPrivs") == "1")
        #expect(try String(contentsOfFile: socket + ".pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                == String(daemon.pid), "the pid file names the process to signal")
    }

    /// Every descriptor of the serving process (but stdin, stdout, stderr) is
    /// the socket, an anonymous inode (eventfd, epoll), something inside the
    /// share, or the private /proc it reopens descriptors through.
    @Test func noDescriptorReachesOutsideTheShareButTheSocket() throws {
        // Started with a descriptor of a file outside the share (fd 7), as a careless starter might.
        let daemon = try startDaemon(launcher: ["/bin/sh", "-c", "exec 7<\"$0\"; exec \"$@\"", work.path + "/outside"])
        defer { daemon.stop() }
        let serving = daemon.servingPid
        try #require(serving != daemon.pid, "no serving child: \(daemon.stderr)")
        var inShare = Set<[UInt64]>()
        var info = stat()
        for path in [share, share + "/sub", share + "/sub/file"] where stat(path, &info) == 0 {
            inShare.insert([UInt64(info.st_dev), UInt64(info.st_ino)])
        }
        var hostProc = stat()
        stat("/proc/self", &hostProc)
        var procDescriptors = 0
        let directory = "/proc/\(serving)/fd"
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            guard let number = Int32(name), number > 2 else { continue }
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\(name)")) ?? "?"
            if target.hasPrefix("socket:") || target.hasPrefix("anon_inode:") { continue }
            var file = stat()
            try #require(stat("\(directory)/\(name)", &file) == 0)
            if inShare.contains([UInt64(file.st_dev), UInt64(file.st_ino)]) { continue }
            // Its own /proc/self/fd: PID 1's, in a proc mount that is not the host's (detached, so no path above it).
            if target == "/1/fd" && file.st_dev != hostProc.st_dev {
                procDescriptors += 1
                continue
            }
            Issue.record("descriptor \(name) reaches outside the share: \(target)")
        }
        #expect(procDescriptors == 1, "one descriptor of a /proc of its own (its /proc/self/fd)")
    }

    @Test func aSignalToTheStartedProcessEndsBothAndRemovesTheSocket() throws {
        for signal in [SIGTERM, SIGINT] {
            let daemon = try startDaemon()
            let serving = daemon.servingPid
            try #require(serving != daemon.pid)
            kill(daemon.pid, signal)
            #expect(daemon.exitStatus() == 0, "signal \(signal): \(daemon.stderr)")
            #expect(kill(serving, 0) != 0, "the serving process is gone")
            #expect(access(socket, F_OK) != 0 && access(socket + ".pid", F_OK) != 0, "socket or pid file left behind")
        }
    }

    @Test func aServingProcessThatCannotStartLeavesNoSocket() throws {
        let (status, message) = try DaemonProcess.run(["--socket-path", socket, "--shared-dir", share + "/missing"])
        #expect(status == 1 && message.contains("cannot share"), "\(status): \(message)")
        #expect(access(socket, F_OK) != 0 && access(socket + ".pid", F_OK) != 0, "socket or pid file left behind")
    }

    @Test func theStartedProcessEndsAsTheServingOneDid() throws {
        let daemon = try startDaemon()
        let serving = daemon.servingPid
        try #require(serving != daemon.pid)
        kill(serving, SIGKILL)
        #expect(daemon.exitStatus() != nil)
        #expect(daemon.process.terminationReason == .uncaughtSignal && daemon.process.terminationStatus == SIGKILL)
        #expect(access(socket, F_OK) != 0, "socket left behind")
    }
}
