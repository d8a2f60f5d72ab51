import Foundation
import FuseServer
import Logging
import Passthrough
import SwiftFSProtocol
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
        let command = try Swiftfsd.parse(["--fuse-mount", "/mnt", "-o", "source=/srv,cache=none,xattr",
                                          "-o", "sandbox=none,log_level=err,no_posix_lock,allow_other"])
        let settings = try command.settings()
        #expect(settings.sharedDirectory == "/srv" && settings.cache == .never && settings.xattr)
        #expect(settings.sandbox == SandboxMode.none && settings.logLevel == .error && !settings.posixLocks)
        #expect(settings.mountOptions == ["allow_other"], "unknown -o items are kept for --fuse-mount")
    }

    @Test func unknownDashOOptionsAreRefusedWithoutFuseMount() {
        #expect(throws: (any Error).self) { try Swiftfsd.parse(["--socket-path", "/s", "-o", "source=/srv,allow_other"]) }
        #expect(throws: (any Error).self) { try Swiftfsd.parse(["--socket-path", "/s", "-o", "source=/srv,security_label"]) }
    }

    /// Issue 6, finding 6: every virtiofsd option swiftfsd does not implement is refused by name.
    @Test func unimplementedVirtiofsdOptionsAreRefusedByName() {
        let refused: [([String], String)] = [
            (["-o", "writeback"], "writeback"), (["--writeback"], "--writeback"),
            (["-o", "posix_acl"], "posix_acl"), (["--posix-acl"], "--posix-acl"),
            (["-o", "allow_root"], "allow_root"), (["-o", "max_idle_threads=4"], "max_idle_threads"),
            (["--killpriv-v2", "--dax-window", "/dev/shm/w", "--dax-size", "2M"], "--dax-window"),
            (["-o", "killpriv_v2", "--dax-size", "2M"], "killpriv_v2"),
            (["--seccomp", "sometimes"], "--seccomp"), (["--fuse-mount", "/mnt", "--seccomp=kill"], "--seccomp"),
            (["--xattrmap", ":bogus:all:::"], "--xattrmap"), (["--modcaps", "+nonsense"], "nonsense"),
            (["--fuse-mount", "/mnt", "--sandbox", "namespace"], "--sandbox"), (["--fuse-mount", "/mnt", "-o", "sandbox=chroot"], "--sandbox"),
        ]
        for (arguments, flag) in refused {
            do {
                _ = try Swiftfsd.parse(["--shared-dir", "/srv"] + (arguments.contains("--fuse-mount") ? [] : ["--socket-path", "/s"]) + arguments)
                Issue.record("\(arguments) accepted")
            } catch {
                #expect(Swiftfsd.message(for: error).contains(flag), "\(arguments): \(Swiftfsd.message(for: error))")
            }
        }
    }

    /// The namespace sandbox is the default for vhost-user, root or not (virtiofsd's default); --fuse-mount runs without.
    @Test func theDefaultSandboxIsNamespaceExceptForFuseMount() throws {
        #expect(try Swiftfsd.parse(["--socket-path", "/s", "--shared-dir", "/srv"]).settings().effectiveSandbox == .namespace)
        #expect(try Swiftfsd.parse(["--fuse-mount", "/mnt", "--shared-dir", "/srv"]).settings().effectiveSandbox == SandboxMode.none)
        #expect(try Swiftfsd.parse(["--socket-path", "/s", "--shared-dir", "/srv", "-o", "sandbox=chroot"]).settings().effectiveSandbox == .chroot)
    }

    @Test func implementedOptionsReachTheSettings() throws {
        let settings = try Swiftfsd.parse(["--socket-path", "/s", "--shared-dir", "/srv", "-o", "no_flock,no_readdirplus,timeout=2.5",
                                           "--announce-submounts", "--allow-direct-io", "--syslog", "--seccomp", "none",
                                           "--xattrmap", ":map:trusted.:user.virtiofs.:", "-o", "modcaps=+sys_admin:-mknod"]).settings()
        #expect(settings.posixLocks && !settings.flockLocks && !settings.readdirplus && settings.timeout == 2.5)
        #expect(settings.announceSubmounts && settings.allowDirectIO && settings.syslog)
        #expect(settings.xattrMap == ":map:trusted.:user.virtiofs.:" && settings.modcaps == "+sys_admin:-mknod")
        #expect(try Swiftfsd.parse(["--socket-path", "/s", "--shared-dir", "/srv", "--no-readdirplus"]).settings().readdirplus == false)
        for action in SeccompAction.allCases {
            #expect(try Swiftfsd.parse(["--socket-path", "/s", "--shared-dir", "/srv", "--seccomp", action.rawValue]).settings().seccomp == action)
        }
    }

    /// The options change what the passthrough filesystem does: INIT's flags, timeouts, the xattr map.
    @Test func optionsChangeWhatTheShareNegotiates() throws {
        let share = NSTemporaryDirectory() + "swiftfsd-options-\(getpid())"
        try FileManager.default.createDirectory(atPath: share, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: share) }
        func fileSystem(_ arguments: [String]) throws -> PassthroughFileSystem {
            let settings = try Swiftfsd.parse(["--socket-path", "/s", "--shared-dir", share] + arguments).settings()
            let handler = try FileSystemFactory.makeHandler(settings: settings, dax: nil, logger: Logger(label: "test"))
            return handler.fileSystem
        }
        let everything = FuseInitFlags(rawValue: UInt64.max)
        let defaults = try fileSystem([]).initialize(offered: everything)
        #expect(defaults.isSuperset(of: [.posixLocks, .flockLocks, .doReaddirplus]) && !defaults.contains(.submounts))
        let off = try fileSystem(["-o", "no_posix_lock,no_flock,no_readdirplus", "--announce-submounts"]).initialize(offered: everything)
        #expect(!off.contains(.posixLocks) && !off.contains(.flockLocks) && !off.contains(.doReaddirplus) && off.contains(.submounts))
        #expect(!defaults.contains(.handleKillprivV2), "off by default, as in virtiofsd")
        #expect(try fileSystem(["-o", "killpriv_v2"]).initialize(offered: everything).contains(.handleKillprivV2))
        #expect(try fileSystem(["--killpriv-v2"]).initialize(offered: everything).contains(.handleKillprivV2))
        #expect(!(try fileSystem(["-o", "killpriv_v2", "--no-killpriv-v2"]).initialize(offered: everything).contains(.handleKillprivV2)),
                "the long option wins")
        #expect(!(try fileSystem(["-o", "killpriv_v2,no_killpriv_v2"]).initialize(offered: everything).contains(.handleKillprivV2)))
        let timed = try fileSystem(["-o", "timeout=2.5"])
        #expect(timed.options.timeout == CacheTimeout(seconds: 2, nanoseconds: 500_000_000))
        #expect(try fileSystem(["--no-xattr", "--xattrmap", ":ok:all:::"]).options.xattr, "a mapping turns xattrs on, as in virtiofsd")
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
