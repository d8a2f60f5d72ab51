@testable import FuseServer
import Glibc
@testable import Passthrough
import SwiftFSProtocol
import Testing

/// Requests run as the calling guest user; a caller the switch cannot represent is refused.
@Suite struct CredentialsTests {
    /// uid or gid -1 would leave the thread as root (setresuid's "unchanged"): refused, nothing created.
    @Test(.enabled(if: geteuid() == 0)) func aCallerOfUidOrGidMinusOneIsRefused() throws {
        let t = try PassthroughFixture()
        chmod(t.directory, 0o777) // writable for the caller, so only the id decides
        for (uid, gid) in [(UInt32.max, UInt32(1000)), (1000, .max)] {
            #expect(throws: Errno.EINVAL) { _ = try t.create("f", context: t.context(uid: uid, gid: gid)) }
        }
        #expect(access(t.directory + "/f", F_OK) != 0)
        let (entry, _) = try t.create("f", context: t.context(uid: 1000, gid: 1000))
        #expect(entry.attr.uid == 1000 && entry.attr.gid == 1000)
    }
}
