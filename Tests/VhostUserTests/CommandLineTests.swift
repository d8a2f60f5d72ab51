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

    // MARK: DAX window flags

    @Test func daxSizesAcceptBytesAndBinarySuffixes() throws {
        let settings = try Swiftfsd.parse(["--socket-path", "/s", "--shared-dir", "/srv",
                                           "--dax-window", "/dev/shm/w", "--dax-size", "64M"]).settings()
        #expect(settings.daxWindow == "/dev/shm/w" && settings.daxSize == 64 << 20)
        #expect(DaemonSettings.parseSize("2097152") == 2 << 20)
        #expect(DaemonSettings.parseSize("4096k") == 4 << 20)
        #expect(DaemonSettings.parseSize("1G") == 1 << 30)
        for bad in ["", "M", "64X", "-2M", "2.5M", "99999999999999999999", "17179869184G", " 2M"] {
            #expect(DaemonSettings.parseSize(bad) == nil, "\(bad)")
        }
        let plain = try Swiftfsd.parse(["--socket-path", "/s", "--shared-dir", "/srv"]).settings()
        #expect(plain.daxWindow == nil && plain.daxSize == nil)
    }

    @Test func refusesBadDaxFlags() {
        let base = ["--socket-path", "/s", "--shared-dir", "/srv"]
        for size in ["0", "3M", "1000", "1G1", "lots"] {
            #expect(throws: (any Error).self, "size \(size)") {
                try Swiftfsd.parse(base + ["--dax-window", "/dev/shm/w", "--dax-size", size])
            }
        }
        #expect(throws: (any Error).self, "a window needs its size") { try Swiftfsd.parse(base + ["--dax-window", "/dev/shm/w"]) }
        #expect(throws: (any Error).self, "no DAX through /dev/fuse") {
            try Swiftfsd.parse(["--fuse-mount", "/mnt", "--shared-dir", "/srv", "--dax-size", "2M"])
        }
    }

    @Test func refusesAMissingOrTooSmallWindowFileClearly() throws {
        var settings = try Swiftfsd.parse(["--socket-path", "/s", "--shared-dir", "/srv", "--dax-window",
                                           "/dev/shm/swiftfs-no-such-window", "--dax-size", "4M"]).settings()
        #expect { try FileSystemFactory.makeDaxSlot(settings: settings) } throws: { error in
            "\(error)".contains("cannot open DAX window /dev/shm/swiftfs-no-such-window")
        }
        let path = "/dev/shm/swiftfs-small-window-\(getpid())"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(count: 2 << 20)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        settings.daxWindow = path
        #expect { try FileSystemFactory.makeDaxSlot(settings: settings) } throws: { error in
            "\(error)".contains("holds 2097152 bytes, less than the window size 4194304")
        }
        settings.daxSize = 2 << 20
        let slot = try #require(try FileSystemFactory.makeDaxSlot(settings: settings))
        #expect(slot.mapper?.windowSize == 2 << 20 && slot.mapper?.holdsCopies == true)
        settings.daxWindow = nil
        #expect(try FileSystemFactory.makeDaxSlot(settings: settings)?.mapper == nil, "--dax-size alone waits for a SHMEM front end")
    }
}
