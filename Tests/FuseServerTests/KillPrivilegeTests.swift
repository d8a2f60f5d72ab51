import CShim
import FuseServer
import Glibc
import SwiftFSProtocol
import TestSupport
import Testing

/// FUSE_HANDLE_KILLPRIV_V2: the guest marks a write, truncation or O_TRUNC
/// open by a caller without CAP_FSETID (KILL_SUIDGID), and the daemon makes
/// the host clear suid, and sgid if group-executable; unmarked ones (a guest
/// caller with CAP_FSETID) keep them. Real files, modes read back with stat.
@Suite(.enabled(if: geteuid() == 0, "the daemon's CAP_FSETID decides what the host clears"))
struct KillPrivilegeTests {
    let session: FuseTestSession
    init() throws { session = try FuseTestSession(killprivV2: true) }

    /// A host file with `mode` (set after creation, past the umask), looked up: its node.
    func file(_ name: String, mode: mode_t) throws -> UInt64 {
        let path = session.directory + "/" + name
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(fd >= 0)
        #expect(Glibc.write(fd, "contents", 8) == 8)
        #expect(fchmod(fd, mode) == 0)
        close(fd)
        let entry = try #require(session.lookup(name).record(FuseEntryOut.self))
        return entry.nodeID
    }

    func mode(_ name: String) -> mode_t {
        var st = stat()
        precondition(stat(session.directory + "/" + name, &st) == 0)
        return st.st_mode & 0o7777
    }

    func open(_ node: UInt64, flags: UInt32, kill: Bool) throws -> UInt64 {
        var body = RequestBytes()
        var openIn = FuseOpenIn()
        openIn.flags = flags
        openIn.openFlags = kill ? FuseFlag.openKillSuidgid : 0
        body.append(openIn)
        let reply = try #require(session.send(.open, node: node, body: body))
        try #require(reply.ok, "OPEN: errno \(reply.error)")
        return try #require(reply.record(FuseOpenOut.self)).fh
    }

    func write(_ node: UInt64, kill: Bool) throws {
        let fh = try open(node, flags: LinuxOpenFlags.writeOnly, kill: false)
        var body = RequestBytes()
        var writeIn = FuseWriteIn()
        writeIn.fh = fh
        writeIn.size = 4
        writeIn.writeFlags = kill ? FuseFlag.writeKillSuidgid : 0
        body.append(writeIn)
        body.append(raw: Array("new!".utf8))
        let reply = try #require(session.send(.write, node: node, body: body))
        #expect(reply.record(FuseWriteOut.self)?.size == 4, "WRITE: errno \(reply.error)")
        #expect(session.release(node, fh: fh).ok)
    }

    func truncate(_ node: UInt64, kill: Bool, throughHandle: Bool) throws {
        var body = RequestBytes()
        var setattrIn = FuseSetattrIn()
        setattrIn.valid = FuseSetattrValid.size.rawValue | (kill ? FuseSetattrValid.killSuidgid.rawValue : 0)
        setattrIn.size = 2
        var fh: UInt64?
        if throughHandle {
            fh = try open(node, flags: LinuxOpenFlags.writeOnly, kill: false)
            setattrIn.valid |= FuseSetattrValid.fh.rawValue
            setattrIn.fh = fh!
        }
        body.append(setattrIn)
        let reply = try #require(session.send(.setattr, node: node, body: body))
        #expect(reply.ok, "SETATTR: errno \(reply.error)")
        #expect(reply.record(FuseAttrOut.self)?.attr.size == 2)
        if let fh { #expect(session.release(node, fh: fh).ok) }
    }

    // MARK: INIT

    @Test func grantedOnlyWhenOfferedAndAskedFor() throws {
        func granted(_ session: FuseTestSession, offer: FuseInitFlags) throws -> Bool {
            let out = try #require(session.sendInit(flags: offer).record(FuseInitOut.self))
            return FuseInitFlags(rawValue: UInt64(out.flags)).contains(.handleKillprivV2)
        }
        #expect(try granted(FuseTestSession(initialize: false, killprivV2: true), offer: FuseTestSession.linuxOffer))
        #expect(!(try granted(FuseTestSession(initialize: false, killprivV2: true),
                              offer: FuseTestSession.linuxOffer.subtracting(.handleKillprivV2))))
        #expect(!(try granted(FuseTestSession(initialize: false), offer: FuseTestSession.linuxOffer)))
    }

    // MARK: WRITE

    @Test func aMarkedWriteClearsSetuidAndGroupExecutableSetgid() throws {
        let node = try file("f", mode: 0o6755)
        try write(node, kill: true)
        #expect(mode("f") == 0o755)
    }

    @Test func anUnmarkedWriteKeepsThem() throws {
        let node = try file("f", mode: 0o6755)
        try write(node, kill: false)
        #expect(mode("f") == 0o6755)
    }

    /// sgid without group execute is no privilege (it was the mandatory-locking mark): it stays,
    /// as the guest kernel would leave it (the host agrees for a file of the daemon's group).
    @Test func aMarkedWriteKeepsSetgidWithoutGroupExecute() throws {
        let node = try file("f", mode: 0o6744)
        try write(node, kill: true)
        #expect(mode("f") == 0o2744)
    }

    /// CAP_FSETID comes back after the marked write: the next unmarked one (same thread) keeps the bits.
    @Test func theCapabilityIsBackAfterAMarkedWrite() throws {
        let marked = try file("marked", mode: 0o4755)
        let unmarked = try file("unmarked", mode: 0o4755)
        try write(marked, kill: true)
        try write(unmarked, kill: false)
        #expect(mode("marked") == 0o755)
        #expect(mode("unmarked") == 0o4755)
    }

    /// File capabilities go with any write, as locally (the host removes them).
    @Test func anyWriteRemovesSecurityCapability() throws {
        let node = try file("f", mode: 0o755)
        let path = session.directory + "/f"
        // struct vfs_cap_data, revision 2: cap_net_bind_service permitted and effective.
        let capability: [UInt8] = [0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00] + [UInt8](repeating: 0, count: 12)
        #expect(CShim.setxattr(path, "security.capability", capability, capability.count, 0) == 0, "errno \(errno)")
        try write(node, kill: false)
        #expect(CShim.getxattr(path, "security.capability", nil, 0) < 0 && errno == ENODATA)
        #expect(HostFiles.readText(path) == "new!ents")
    }

    // MARK: SETATTR

    @Test func aMarkedTruncationClearsThemWithOrWithoutAHandle() throws {
        for throughHandle in [false, true] {
            let name = "f\(throughHandle)"
            let node = try file(name, mode: 0o6775)
            try truncate(node, kill: true, throughHandle: throughHandle)
            #expect(mode(name) == 0o775, "through a handle: \(throughHandle)")
        }
    }

    @Test func anUnmarkedTruncationKeepsThem() throws {
        for throughHandle in [false, true] {
            let name = "f\(throughHandle)"
            let node = try file(name, mode: 0o6775)
            try truncate(node, kill: false, throughHandle: throughHandle)
            #expect(mode(name) == 0o6775, "through a handle: \(throughHandle)")
        }
    }

    /// chown: the guest marks it always, and the host clears the bits itself on any chown of a file.
    @Test func aChownClearsThem() throws {
        let node = try file("f", mode: 0o6755)
        var body = RequestBytes()
        var setattrIn = FuseSetattrIn()
        setattrIn.valid = FuseSetattrValid.uid.rawValue | FuseSetattrValid.killSuidgid.rawValue
        setattrIn.uid = 1234
        body.append(setattrIn)
        #expect(session.send(.setattr, node: node, body: body)?.ok == true)
        #expect(mode("f") == 0o755)
    }

    // MARK: OPEN and CREATE with O_TRUNC

    @Test func aMarkedTruncatingOpenClearsThem() throws {
        let node = try file("f", mode: 0o6755)
        let fh = try open(node, flags: LinuxOpenFlags.writeOnly | LinuxOpenFlags.truncate, kill: true)
        #expect(session.release(node, fh: fh).ok)
        #expect(mode("f") == 0o755)
    }

    @Test func anUnmarkedTruncatingOpenKeepsThem() throws {
        let node = try file("f", mode: 0o6755)
        let fh = try open(node, flags: LinuxOpenFlags.writeOnly | LinuxOpenFlags.truncate, kill: false)
        #expect(session.release(node, fh: fh).ok)
        #expect(mode("f") == 0o6755)
    }

    @Test func aMarkedCreateOfAnExistingFileWithTruncationClearsThem() throws {
        for kill in [true, false] {
            let name = "f\(kill)"
            _ = try file(name, mode: 0o6755)
            var body = RequestBytes()
            var createIn = FuseCreateIn()
            createIn.flags = LinuxOpenFlags.create | LinuxOpenFlags.writeOnly | LinuxOpenFlags.truncate
            createIn.mode = LinuxFileMode.regular | 0o644
            createIn.openFlags = kill ? FuseFlag.openKillSuidgid : 0
            body.append(createIn)
            body.append(name: name)
            let reply = try #require(session.send(.create, node: 1, body: body))
            #expect(reply.ok, "CREATE: errno \(reply.error)")
            #expect(mode(name) == (kill ? 0o755 : 0o6755), "marked: \(kill)")
        }
    }
}
