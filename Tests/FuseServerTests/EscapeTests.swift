import FuseServer
import Glibc
import SwiftFSProtocol
import TestSupport
import Testing

/// Nothing outside the shared directory is reachable through the protocol.
@Suite struct EscapeTests {
    let session: FuseTestSession
    init() throws { session = try FuseTestSession() }

    @Test func symlinkPointingOutsideIsNotFollowed() throws {
        let outside = session.directory + "-outside"
        mkdir(outside, 0o755)
        defer { _ = system("rm -rf '\(outside)'") }
        HostFiles.write(outside + "/secret", "secret")
        symlink(outside + "/secret", session.hostPath("to-file"))
        symlink(outside, session.hostPath("to-dir"))

        let link = try #require(session.lookup("to-file").record(FuseEntryOut.self))
        #expect(LinuxFileMode.isSymlink(link.attr.mode)) // the link itself, not the target
        #expect(session.open(link.nodeID).error == Errno.ELOOP.rawValue)
        // SETATTR size through the link does not reach the target.
        var setattr = FuseSetattrIn()
        setattr.valid = FuseSetattrValid.size.rawValue
        var body = RequestBytes()
        body.append(setattr)
        #expect(session.send(.setattr, node: link.nodeID, body: body)?.ok == false)
        #expect(HostFiles.readText(outside + "/secret") == "secret")

        let dirLink = try #require(session.lookup("to-dir").record(FuseEntryOut.self))
        #expect(session.lookup("secret", in: dirLink.nodeID).error == Errno.ENOTDIR.rawValue)
        #expect(session.mkdir("new", in: dirLink.nodeID).error == Errno.ENOTDIR.rawValue)
        var opendir = RequestBytes()
        opendir.append(FuseOpenIn())
        #expect(session.send(.opendir, node: dirLink.nodeID, body: opendir)?.ok == false)
        #expect(!HostFiles.exists(outside + "/new"))
    }

    @Test func createThroughADanglingSymlinkDoesNotCreateOutside() throws {
        let outside = session.directory + "-victim"
        symlink(outside, session.hostPath("dangling"))
        defer { unlink(outside) }
        let (reply, _, _) = session.create("dangling", flags: LinuxOpenFlags.writeOnly)
        #expect(!reply.ok)
        #expect(access(outside, F_OK) != 0)
    }

    @Test func dotDotNeverLeavesTheShare() throws {
        let up = try #require(session.lookup("..").record(FuseEntryOut.self))
        #expect(up.nodeID == 1)
        let upUp = try #require(session.lookup("..", in: up.nodeID).record(FuseEntryOut.self))
        #expect(upUp.nodeID == 1)
        #expect(session.mkdir("..").error == Errno.EINVAL.rawValue)
        var rename = RequestBytes()
        var renameIn = FuseRenameIn()
        renameIn.newDir = 1
        rename.append(renameIn)
        rename.append(name: "x")
        rename.append(name: "../escaped")
        #expect(session.send(.rename, body: rename)?.error == Errno.EINVAL.rawValue)
    }

    @Test func linkOfASymlinkLinksTheSymlinkItself() throws {
        let outside = session.directory + "-target"
        HostFiles.write(outside, "t")
        defer { unlink(outside) }
        symlink(outside, session.hostPath("sl"))
        let link = try #require(session.lookup("sl").record(FuseEntryOut.self))
        var body = RequestBytes()
        var linkIn = FuseLinkIn()
        linkIn.oldNodeID = link.nodeID
        body.append(linkIn)
        body.append(name: "hard")
        let hard = try #require(session.send(.link, body: body)?.record(FuseEntryOut.self))
        #expect(LinuxFileMode.isSymlink(hard.attr.mode))
        var st = stat()
        #expect(lstat(outside, &st) == 0 && st.st_nlink == 1)
    }
}
