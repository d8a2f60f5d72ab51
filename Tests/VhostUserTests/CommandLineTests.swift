import Foundation
import Testing
@testable import swiftfsd

/// virtiofsd-compatible command lines.
@Suite struct CommandLineTests {
    @Test func acceptsTheLongOptionsScriptsAndLibvirtPass() throws {
        let command = try Swiftfsd.parse(["--socket-path=/tmp/s.sock", "--shared-dir=/srv", "--cache=auto",
                                          "--thread-pool-size", "4", "--sandbox", "chroot", "--no-xattr",
                                          "--log-level", "debug", "--announce-submounts"])
        let settings = try command.settings()
        #expect(settings.socketPath == "/tmp/s.sock" && settings.sharedDirectory == "/srv")
        #expect(settings.cache == .auto && settings.vhostThreadPoolSize == 4 && settings.sandbox == .chroot)
        #expect(!settings.xattr && settings.logLevel == .debug)
    }

    @Test func acceptsTheCDaemonsDashOOptions() throws {
        let command = try Swiftfsd.parse(["--socket-path", "/tmp/s", "-o", "source=/srv,cache=none,xattr",
                                          "-o", "sandbox=none,log_level=err,no_posix_lock,allow_other"])
        let settings = try command.settings()
        #expect(settings.sharedDirectory == "/srv" && settings.cache == .never && settings.xattr)
        #expect(settings.sandbox == SandboxMode.none && settings.logLevel == .error)
        #expect(settings.mountOptions == ["allow_other"], "unknown -o items are kept for --fuse-mount")
    }

    @Test func longOptionsWinOverDashO() throws {
        let settings = try Swiftfsd.parse(["--fd", "3", "-o", "source=/a,cache=always", "--shared-dir", "/b", "--cache", "never"]).settings()
        #expect(settings.sharedDirectory == "/b" && settings.cache == .never && settings.listeningFd == 3)
    }

    @Test func defaultsMatchTheHarnessExpectations() throws {
        let settings = try Swiftfsd.parse(["--socket-path", "/tmp/s", "--shared-dir", "/srv"]).settings()
        #expect(settings.xattr && settings.vhostThreadPoolSize == 0 && settings.threadPoolSize == nil)
    }

    @Test func refusesMissingOrConflictingTransportsAndBadValues() {
        #expect(throws: (any Error).self) { try Swiftfsd.parse(["--shared-dir", "/srv"]) }
        #expect(throws: (any Error).self) { try Swiftfsd.parse(["--socket-path", "/s"]) }
        #expect(throws: (any Error).self) { try Swiftfsd.parse(["--socket-path", "/s", "--fd", "3", "--shared-dir", "/srv"]) }
        #expect(throws: (any Error).self) { try Swiftfsd.parse(["--socket-path", "/s", "--shared-dir", "/srv", "--cache", "sometimes"]) }
        #expect(throws: (any Error).self) { try Swiftfsd.parse(["--socket-path", "/s", "-o", "source=/srv,cache=bogus"]) }
    }

    @Test func printsCapabilitiesAsVhostUserJSON() throws {
        let command = try Swiftfsd.parse(["--print-capabilities"])
        #expect(command.printCapabilities)
        let object = try JSONSerialization.jsonObject(with: Data(Capabilities.json.utf8)) as? [String: Any]
        #expect(object?["type"] as? String == "fs")
        #expect((object?["features"] as? [String])?.contains("migrate-precopy") == false)
    }

    @Test func shipsABackendDescriptorForLibvirt() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../contrib/50-swiftfsd.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        #expect(object?["type"] as? String == "fs")
        #expect(object?["binary"] as? String == "/usr/local/bin/swiftfsd")
    }
}
