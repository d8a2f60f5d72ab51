@testable import FuseServer
import CShim
import Glibc
@testable import Passthrough
import SwiftFSProtocol
import Testing

/// Options of virtiofsd that change what the passthrough does (issue 6, finding 6).
@Suite struct OptionTests {
    func hostFlags(_ t: PassthroughFixture, _ handle: FileHandle) throws -> Int32 {
        shim_fcntl_int(try t.fs.files.get(handle).fd, F_GETFL, 0)
    }

    @Test func oDirectReachesTheHostOnlyWithAllowDirectIO() throws {
        for allowed in [false, true] {
            let t = try PassthroughFixture { $0.allowDirectIO = allowed }
            let (entry, _) = try t.create("f")
            let opened = try t.fs.open(t.root, node: entry.node, flags: OpenFlags(LinuxOpenFlags.readWrite | LinuxOpenFlags.direct))
            let direct = try hostFlags(t, opened.handle) & Int32(LinuxOpenFlags.direct) != 0
            #expect(direct == allowed)
        }
    }

    @Test func timeoutReplacesTheCachePolicysTimeouts() throws {
        let t = try PassthroughFixture { $0.timeout = CacheTimeout(seconds: 7, nanoseconds: 250) }
        _ = try t.create("f")
        let entry = try t.lookup("f")
        #expect(entry.entryTimeout == CacheTimeout(seconds: 7, nanoseconds: 250) && entry.attrTimeout == entry.entryTimeout)
    }

    @Test(.enabled(if: geteuid() == 0)) func announceSubmountsFlagsDirectoriesOnAnotherFilesystem() throws {
        for announce in [false, true] {
            let t = try PassthroughFixture { $0.announceSubmounts = announce }
            _ = try t.mkdir("sub")
            _ = try t.mkdir("plain")
            try #require(mount("tmpfs", t.hostPath("sub"), "tmpfs", 0, nil) == 0)
            defer { umount2(t.hostPath("sub"), Int32(MNT_DETACH)) }
            #expect((try t.lookup("sub").attr.flags & FuseFlag.attrSubmount != 0) == announce)
            #expect(try t.lookup("plain").attr.flags & FuseFlag.attrSubmount == 0)
            #expect(try t.fs.initialize(offered: FuseInitFlags(rawValue: .max)).contains(.submounts) == announce)
        }
    }
}
