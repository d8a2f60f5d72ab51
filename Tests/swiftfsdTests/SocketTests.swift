import Foundation
import Glibc
import Testing

/// Issue 6, finding 1: the vhost-user socket is private whatever the umask,
/// and a second daemon on the same path is refused without harming the first.
@Suite(.serialized) struct SocketTests {
    let work: URL
    var socket: String { work.path + "/vhost.sock" }

    init() throws { work = try TemporaryDirectory.make(prefix: "swiftfsd-socket") }

    func startDaemon(_ extra: [String] = [], umask: String = "000") throws -> DaemonProcess {
        let daemon = try DaemonProcess(["--socket-path", socket, "--shared-dir", work.path, "--sandbox", "none"] + extra,
                                       umask: umask)
        let listening = eventually { access(socket, F_OK) == 0 && daemon.stderr.contains("waiting for a vhost-user front end") }
        #expect(listening, "daemon did not listen: \(daemon.stderr)")
        return daemon
    }

    @Test func socketIsOwnerOnlyUnderUmask000() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        var info = stat()
        #expect(lstat(socket, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600, "mode \(String(info.st_mode & 0o777, radix: 8))")
    }

    @Test(.enabled(if: geteuid() == 0)) func socketGroupMakesItGroupReadWritable() throws {
        let daemon = try startDaemon(["--socket-group", "daemon"])
        defer { daemon.stop() }
        var info = stat()
        #expect(lstat(socket, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o660, "mode \(String(info.st_mode & 0o777, radix: 8))")
        #expect(info.st_gid == getgrnam("daemon")!.pointee.gr_gid)
    }

    @Test func aSecondDaemonIsRefusedAndLeavesTheFirstOnesSocket() throws {
        let first = try startDaemon()
        defer { first.stop() }
        let (status, message) = try DaemonProcess.run(["--socket-path", socket, "--shared-dir", work.path, "--sandbox", "none"])
        #expect(status != 0)
        #expect(message.contains(socket) && message.contains("another daemon"), "message: \(message)")
        #expect(canConnect(to: socket), "the first daemon's socket must still accept")
    }

    @Test func theSocketAndPidFileGoAwayAtExit() throws {
        let daemon = try startDaemon()
        #expect(access(socket + ".pid", F_OK) == 0)
        let pid = try String(contentsOfFile: socket + ".pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(pid == String(daemon.pid))
        daemon.stop()
        #expect(access(socket, F_OK) != 0 && access(socket + ".pid", F_OK) != 0)
    }

    /// Found by the SIGKILL fault check: after the front end went away the
    /// socket file stayed, because its removal used the directory descriptor
    /// of the listener, closed (and its number reused) once accept returned.
    @Test func theSocketAndPidFileGoAwayWhenTheFrontEndHangsUp() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        #expect(canConnect(to: socket))  // connects, then hangs up as a killed QEMU does
        #expect(daemon.exitStatus() == 0, "stderr: \(daemon.stderr)")
        #expect(access(socket, F_OK) != 0, "socket file left behind")
        #expect(access(socket + ".pid", F_OK) != 0, "pid file left behind")
    }
}
