import Glibc
import Testing
@testable import swiftfsd

/// `--rlimit-nofile`, `--inode-file-handles` and `--inode-descriptor-cache`.
@Suite struct DescriptorLimitOptionsTests {
    @Test func parseAsVirtiofsdsFlags() throws {
        let settings = try Swiftfsd.parse(["--socket-path", "/tmp/s", "--shared-dir", "/srv", "--rlimit-nofile=4096",
                                           "--inode-file-handles=mandatory", "--inode-descriptor-cache", "100"]).settings()
        #expect(settings.rlimitNofile == 4096)
        #expect(settings.inodeFileHandles == .mandatory)
        #expect(settings.inodeDescriptorCache == 100)
    }

    @Test func defaultsRaiseTheLimitAndPreferHandlesAsRoot() throws {
        let settings = try Swiftfsd.parse(["--socket-path", "/tmp/s", "--shared-dir", "/srv"]).settings()
        #expect(settings.rlimitNofile == nil)
        #expect(settings.inodeDescriptorCache == nil)
        #expect(settings.inodeFileHandles == (geteuid() == 0 ? .prefer : .never))
    }

    @Test func refuseBadValues() {
        let base = ["--socket-path", "/s", "--shared-dir", "/srv"]
        #expect(throws: (any Error).self) { try Swiftfsd.parse(base + ["--inode-file-handles", "sometimes"]) }
        #expect(throws: (any Error).self) { try Swiftfsd.parse(base + ["--rlimit-nofile", "-1"]) }
        #expect(throws: (any Error).self) { try Swiftfsd.parse(base + ["--rlimit-nofile", "many"]) }
        #expect(throws: (any Error).self) { try Swiftfsd.parse(base + ["--inode-descriptor-cache", "0"]) }
    }
}
