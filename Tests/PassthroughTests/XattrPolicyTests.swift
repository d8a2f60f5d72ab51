import CShim
@testable import FuseServer
import Glibc
@testable import Passthrough
import SwiftFSProtocol
import Testing

/// Issue 6, finding 2: host-significant xattrs are refused unless mapped,
/// and POSIX ACLs set through the share keep the host's rules.
@Suite struct XattrPolicyTests {
    /// xattr calls on the host path, bypassing the share.
    func hostGetxattr(_ path: String, _ name: String, _ buffer: UnsafeMutableRawPointer?, _ size: Int) -> Int {
        CShim.getxattr(path, name, buffer, size)
    }

    func hostSetxattr(_ path: String, _ name: String, _ value: String, _ size: Int, _ flags: Int32) -> Int32 {
        CShim.setxattr(path, name, value, size, flags)
    }

    @Test func trustedAndSecurityNamesAreRefusedByDefault() throws {
        let t = try PassthroughFixture()
        let (entry, _) = try t.create("f")
        #expect(throws: Errno.EPERM) { try t.setxattr(entry.node, "trusted.overlay.redirect", Array("x".utf8)) }
        #expect(throws: Errno.EPERM) { try t.removexattr(entry.node, "trusted.overlay.redirect") }
        #expect(hostGetxattr(t.hostPath("f"), "trusted.overlay.redirect", nil, 0) < 0 && errno == ENODATA, "nothing reached the host")
        // Set on the host: invisible to the guest.
        #expect(hostSetxattr(t.hostPath("f"), "trusted.host", "h", 1, 0) == 0)
        #expect(hostSetxattr(t.hostPath("f"), "user.visible", "v", 1, 0) == 0)
        #expect(throws: Errno.ENODATA) { try t.getxattr(entry.node, "trusted.host") }
        let list = try t.listxattr(entry.node)
        #expect(list.names == ["user.visible"])
        #expect(list.sizeQuery == "user.visible".utf8.count + 1)
        try t.setxattr(entry.node, "user.ok", Array("fine".utf8))
        #expect(try t.getxattr(entry.node, "user.ok") == Array("fine".utf8))
    }

    /// security.* is a namespace the share does not have: EOPNOTSUPP for every
    /// call, as a filesystem without security xattrs answers (SELinux falls back
    /// to genfs labels on it; `ls` stops asking), and host values stay hidden.
    @Test(.enabled(if: geteuid() == 0)) func securityNamesAreUnsupportedByDefault() throws {
        let t = try PassthroughFixture()
        let (entry, _) = try t.create("f")
        #expect(hostSetxattr(t.hostPath("f"), "security.host", "h", 1, 0) == 0)
        for name in ["security.selinux", "security.capability", "security.ima", "security.host"] {
            #expect(throws: Errno.EOPNOTSUPP, "get \(name)") { try t.getxattr(entry.node, name) }
            #expect(throws: Errno.EOPNOTSUPP, "set \(name)") { try t.setxattr(entry.node, name, Array("x".utf8)) }
            #expect(throws: Errno.EOPNOTSUPP, "remove \(name)") { try t.removexattr(entry.node, name) }
        }
        #expect(hostGetxattr(t.hostPath("f"), "security.capability", nil, 0) < 0 && errno == ENODATA, "nothing reached the host")
        #expect(hostGetxattr(t.hostPath("f"), "security.host", nil, 0) == 1, "the host's own value is untouched")
        #expect(try t.listxattr(entry.node).names == [])
        // An explicit map keeps virtiofsd's meaning: `bad` refuses with EPERM (ENODATA on get).
        let mapped = try PassthroughFixture { $0.xattrMap = try! XattrMap(parsing: ":bad:all:security.:security.::ok:all:::") }
        let (other, _) = try mapped.create("g")
        #expect(throws: Errno.ENODATA) { try mapped.getxattr(other.node, "security.selinux") }
        #expect(throws: Errno.EPERM) { try mapped.setxattr(other.node, "security.selinux", Array("x".utf8)) }
    }

    @Test func aMapMovesTheGuestsTrustedNamesUnderUserVirtiofs() throws {
        let t = try PassthroughFixture { $0.xattrMap = try! XattrMap(parsing: ":map:trusted.:user.virtiofs.:") }
        let (entry, _) = try t.create("f")
        try t.setxattr(entry.node, "trusted.overlay.opaque", Array("y".utf8))
        var value = [UInt8](repeating: 0, count: 8)
        #expect(value.withUnsafeMutableBytes { hostGetxattr(t.hostPath("f"), "user.virtiofs.trusted.overlay.opaque", $0.baseAddress, 8) } == 1)
        #expect(hostGetxattr(t.hostPath("f"), "trusted.overlay.opaque", nil, 0) < 0)
        #expect(try t.getxattr(entry.node, "trusted.overlay.opaque") == Array("y".utf8))
        #expect(hostSetxattr(t.hostPath("f"), "trusted.host", "h", 1, 0) == 0)
        #expect(try t.listxattr(entry.node).names == ["trusted.overlay.opaque"])
        #expect(throws: Errno.EPERM) { try t.setxattr(entry.node, "user.virtiofs.trusted.forged", [1]) }
        try t.removexattr(entry.node, "trusted.overlay.opaque")
        #expect(hostGetxattr(t.hostPath("f"), "user.virtiofs.trusted.overlay.opaque", nil, 0) < 0)
    }

    // MARK: POSIX ACLs

    /// A system.posix_acl_access value: (tag, permissions, id) entries.
    func acl(_ entries: [(UInt16, UInt16, UInt32)]) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt32(2).littleEndian) { bytes += $0 }
        for (tag, perm, id) in entries {
            withUnsafeBytes(of: tag.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: perm.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: id.littleEndian) { bytes += $0 }
        }
        return bytes
    }
    let userObj: UInt16 = 1, user: UInt16 = 2, groupObj: UInt16 = 4, mask: UInt16 = 0x10, other: UInt16 = 0x20
    let undefined = UInt32.max

    func mode(_ path: String) -> UInt32 {
        var st = stat()
        stat(path, &st)
        return st.st_mode & 0o7777
    }

    @Test(.enabled(if: geteuid() == 0)) func anACLEquivalentToTheModeSetsTheModeAndClearsSGIDForOutsiders() throws {
        let t = try PassthroughFixture()
        let (entry, _) = try t.create("f")
        // Owned by the caller, group one the caller is not in, SGID set.
        #expect(chown(t.hostPath("f"), 1000, 4242) == 0 && chmod(t.hostPath("f"), 0o2770) == 0)
        let caller = t.context(uid: 1000, gid: 1000)
        try t.setxattr(entry.node, "system.posix_acl_access", acl([(userObj, 7, undefined), (groupObj, 5, undefined), (other, 0, undefined)]),
                       context: caller)
        #expect(mode(t.hostPath("f")) == 0o750, "mode \(String(mode(t.hostPath("f")), radix: 8))")
        #expect(hostGetxattr(t.hostPath("f"), "system.posix_acl_access", nil, 0) < 0 && errno == ENODATA,
                "an ACL equal to the mode is kept as the mode alone")
    }

    @Test(.enabled(if: geteuid() == 0)) func onlyTheOwnerMayChangeAnACL() throws {
        let t = try PassthroughFixture()
        let (entry, _) = try t.create("f") // root's
        let value = acl([(userObj, 6, undefined), (user, 6, 1000), (groupObj, 4, undefined), (mask, 6, undefined), (other, 4, undefined)])
        #expect(throws: Errno.EPERM) { try t.setxattr(entry.node, "system.posix_acl_access", value, context: t.context(uid: 1000, gid: 1000)) }
        #expect(hostGetxattr(t.hostPath("f"), "system.posix_acl_access", nil, 0) < 0)
    }

    @Test(.enabled(if: geteuid() == 0)) func settingAndRemovingAnExtendedACLKeepsTheModeConsistent() throws {
        let t = try PassthroughFixture()
        let (entry, _) = try t.create("f")
        #expect(chown(t.hostPath("f"), 1000, 1000) == 0 && chmod(t.hostPath("f"), 0o640) == 0)
        let caller = t.context(uid: 1000, gid: 1000)
        let value = acl([(userObj, 6, undefined), (user, 6, 1001), (groupObj, 4, undefined), (mask, 6, undefined), (other, 0, undefined)])
        try t.setxattr(entry.node, "system.posix_acl_access", value, context: caller)
        #expect(mode(t.hostPath("f")) == 0o660, "the group bits show the mask")
        #expect(try t.getxattr(entry.node, "system.posix_acl_access") == value)
        try t.removexattr(entry.node, "system.posix_acl_access", context: caller)
        #expect(throws: Errno.ENODATA) { try t.getxattr(entry.node, "system.posix_acl_access") }
        #expect(mode(t.hostPath("f")) == 0o660)
    }
}
