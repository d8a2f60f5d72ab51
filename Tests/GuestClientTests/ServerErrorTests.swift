// Errors the real server answers reach the guest's caller as the same errno.

import Foundation
import Glibc
@testable import GuestFileSystem
import Testing

extension GuestClient {
    @Suite struct ServerErrors {
        let share: MountedShare
        init() throws { share = try MountedShare() }

        @Test func missingNamesAreENOENT() throws {
            #expect(failure { try Posix.stat(share.guest("missing")) } == .ENOENT)
            #expect(failure { try Posix.open(share.guest("missing"), .readOnly) } == .ENOENT)
            #expect(failure { try Posix.unlink(share.guest("missing")) } == .ENOENT)
            #expect(failure { try Posix.rmdir(share.guest("missing")) } == .ENOENT)
            #expect(failure { try Posix.rename(share.guest("missing"), share.guest("other")) } == .ENOENT)
            #expect(failure { try Posix.mkdir(share.guest("missing/child")) } == .ENOENT)
            #expect(!hostExists(share.host("other")))
        }

        @Test func aNameTheHostRemovedIsENOENT() throws {
            writeHostFile(share.host("gone"), [1])
            #expect(try Posix.stat(share.guest("gone")).size == 1)
            unlink(share.host("gone"))
            // With the client's caches dropped, the LOOKUP goes to the server, which no longer finds it.
            try Posix.dropCaches()
            #expect(failure { try Posix.open(share.guest("gone"), .readOnly) } == .ENOENT)
        }

        @Test func existingNamesAreEEXIST() throws {
            writeHostFile(share.host("file"), [1, 2])
            mkdir(share.host("dir"), 0o755)
            #expect(failure { try Posix.open(share.guest("file"), [.writeOnly, .create, .exclusive]) } == .EEXIST)
            #expect(failure { try Posix.mkdir(share.guest("dir")) } == .EEXIST)
            #expect(failure { try Posix.mkdir(share.guest("file")) } == .EEXIST)
            #expect(hostBytes(share.host("file")) == [1, 2], "O_EXCL must not truncate")
        }

        @Test func nonEmptyDirectoriesAreENOTEMPTY() throws {
            mkdir(share.host("full"), 0o755)
            writeHostFile(share.host("full/inside"), [])
            mkdir(share.host("other"), 0o755)
            writeHostFile(share.host("other/inside"), [])
            #expect(failure { try Posix.rmdir(share.guest("full")) } == .ENOTEMPTY)
            #expect(failure { try Posix.rename(share.guest("other"), share.guest("full")) } == .ENOTEMPTY)
            #expect(hostExists(share.host("full/inside")) && hostExists(share.host("other/inside")))
        }

        @Test func wrongKindsAreRefused() throws {
            writeHostFile(share.host("file"), [])
            mkdir(share.host("dir"), 0o755)
            writeHostFile(share.host("dir/inside"), [])
            #expect(failure { try Posix.rmdir(share.guest("file")) } == .ENOTDIR)
            #expect(failure { try Posix.unlink(share.guest("dir")) } == .EISDIR)
            #expect(failure { try Posix.rename(share.guest("dir"), share.guest("file")) } == .ENOTDIR)
            #expect(hostExists(share.host("file")) && hostExists(share.host("dir/inside")))
        }

        @Test func aFIFOOnTheHostIsEACCES() throws {
            // The server opens regular files only: a FIFO would block it, a device would reach the host's.
            try #require(mkfifo(share.host("fifo"), 0o666) == 0)
            #expect(try Posix.stat(share.guest("fifo")).kind == .other)
            #expect(failure { try Posix.open(share.guest("fifo"), .readOnly) } == .EACCES)
            #expect(failure { try Posix.open(share.guest("fifo"), [.writeOnly, .create]) } == .EACCES)
        }

        @Test func aReadOnlyShareRefusesEveryChangeWithEROFS() throws {
            let share = try MountedShare(readOnly: true)
            writeHostFile(share.host("file"), Array("kept".utf8))
            mkdir(share.host("dir"), 0o755)
            let refused: [(String, () throws -> Void)] = [
                ("create", { _ = try Posix.open(share.guest("new"), [.writeOnly, .create]) }),
                ("open for writing", { _ = try Posix.open(share.guest("file"), .readWrite) }),
                ("O_TRUNC", { _ = try Posix.open(share.guest("file"), [.writeOnly, .truncate]) }),
                ("mkdir", { try Posix.mkdir(share.guest("newdir")) }),
                ("unlink", { try Posix.unlink(share.guest("file")) }),
                ("rmdir", { try Posix.rmdir(share.guest("dir")) }),
                ("rename", { try Posix.rename(share.guest("file"), share.guest("renamed")) }),
                ("truncate", { try Posix.truncate(share.guest("file"), 0) }),
                ("chmod", { try Posix.chmod(share.guest("file"), 0o777) }),
            ]
            for (label, change) in refused {
                #expect(failure(change) == .EROFS, "\(label)")
            }
            // Reading still works, and the host saw no change.
            #expect(try Posix.readFile(share.guest("file")) == Array("kept".utf8))
            #expect(hostBytes(share.host("file")) == Array("kept".utf8))
            #expect((hostStat(share.host("file"))?.st_mode ?? 0) & 0o7777 != 0o777)
            #expect(hostExists(share.host("dir")))
            #expect(!hostExists(share.host("new")) && !hostExists(share.host("newdir")) && !hostExists(share.host("renamed")))
        }
    }
}
