import CShim
import Foundation
import Glibc
import SwiftFSProtocol
import Testing
@testable import VhostUser

/// Issue 6: the built swiftfsd with its default sandbox (PID, mount, network
/// and IPC namespaces, a user namespace when not root, seccomp) serves a real
/// vhost-user session from another process and stays confined while it does:
/// as root, and as a user without privileges (nobody, through setpriv).
@Suite(.serialized, .enabled(if: geteuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0))
struct SandboxedDaemonSessionTests {
    /// The binary next to the test bundle (`swift build` puts both in .build/<config>/), or $SWIFTFSD.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["SWIFTFSD"], access(path, X_OK) == 0 { return path }
        let bundle = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
        return bundle.deletingLastPathComponent().appendingPathComponent("swiftfsd").path
    }

    @Test func asRoot() throws { try serveOneSession(as: nil) }
    @Test func asAUserWithoutPrivilegesInAUserNamespace() throws { try serveOneSession(as: 65534) }

    func serveOneSession(as user: uid_t?) throws {
        let share = try PassthroughOverVirtqueueTests.makeShare()
        defer { PassthroughOverVirtqueueTests.removeShare(share) }
        var template = Array("/tmp/swiftfsd-sandbox-session.XXXXXX".utf8CString)
        let directory = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        defer { try? FileManager.default.removeItem(atPath: directory) }
        if let user {
            #expect(chown(share, user, gid_t(user)) == 0 && chown(directory, user, gid_t(user)) == 0)
        }
        let socket = directory + "/vhost.sock"
        let log = directory + "/stderr"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        let arguments = ["--socket-path", socket, "--shared-dir", share] // the default sandbox and seccomp
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(user)", "--regid=\(user)", "--clear-groups", "--", Self.binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = arguments
        }
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        let stderr = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        // Listening (the file alone may exist between bind and listen).
        var listening = false
        for _ in 0..<1000 where !listening {
            listening = stderr().contains("waiting for a vhost-user front end")
            if !listening { usleep(20_000) }
        }
        try #require(listening, "not listening: \(stderr())")

        let guest = TestGuest()
        let call = EventNotifier.make(), kick = EventNotifier.make()
        defer { close(call); close(kick) }
        let frontEnd = try #require(TestFrontEnd(connectingTo: socket))
        frontEnd.setUp(guest: guest, queue: 1, callFd: call, kickFd: kick)
        let session = PassthroughOverVirtqueueTests()
        var initIn = FuseInitIn()
        initIn.major = 7; initIn.minor = 38; initIn.maxReadahead = 1 << 17
        let initReply = session.roundTrip(guest, kick: kick, call: call, head: 0, opcode: FuseOpcode.`init`.rawValue,
                                          node: 0, unique: 1, body: withUnsafeBytes(of: &initIn) { Array($0) })
        try #require(initReply.count >= FuseOutHeader.wireSize)
        #expect(initReply.withUnsafeBytes { $0.loadUnaligned(as: FuseOutHeader.self) }.error == 0)
        let lookupReply = session.roundTrip(guest, kick: kick, call: call, head: 2, opcode: FuseOpcode.lookup.rawValue,
                                            node: 1, unique: 2, body: Array("hello".utf8) + [0])
        try #require(lookupReply.count == FuseOutHeader.wireSize + FuseEntryOut.wireSize, "\(stderr())")
        let entry = lookupReply.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: FuseOutHeader.wireSize, as: FuseEntryOut.self) }
        #expect(entry.attr.size == 13)

        // The process serving the session: the started one's only child, PID 1 of its own PID namespace.
        let started = process.processIdentifier
        let children = (try? String(contentsOfFile: "/proc/\(started)/task/\(started)/children", encoding: .utf8)) ?? ""
        let serving = try #require(children.split(separator: " ").first.flatMap { pid_t($0) }, "no child of \(started)")
        let status = try String(contentsOfFile: "/proc/\(serving)/status", encoding: .utf8)
        func field(_ name: String) -> String {
            let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
            return line.map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) } ?? ""
        }
        #expect(field("NSpid").split(separator: "\t").last == "1", "NSpid: \(field("NSpid"))")
        #expect(field("Seccomp") == "2")
        #expect(field("NoNewPrivs") == "1")
        let namespaces = user == nil ? ["pid", "mnt", "net", "ipc"] : ["user", "pid", "mnt", "net", "ipc"]
        for name in namespaces {
            let ours = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/\(name)")
            let its = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(serving)/ns/\(name)")
            #expect(ours != its, "\(name) namespace shared with the host")
        }
        if let user {
            #expect(field("Uid").split(separator: "\t").allSatisfy { $0 == "\(user)" }, "Uid: \(field("Uid"))")
            #expect(field("CapEff") == "0000000000000000" && field("CapPrm") == "0000000000000000"
                    && field("CapBnd") == "0000000000000000", "no capability in its user namespace either")
        }

        // The front end goes: the daemon exits 0 and its socket and pid file go with it.
        frontEnd.disconnect()
        var exited = false
        for _ in 0..<1000 where !exited {
            exited = !process.isRunning
            if !exited { usleep(20_000) }
        }
        try #require(exited, "still running: \(stderr())")
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(stderr())")
        #expect(access(socket, F_OK) != 0 && access(socket + ".pid", F_OK) != 0, "socket or pid file left behind")
    }
}
