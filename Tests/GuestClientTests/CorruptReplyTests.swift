// Replies of the real server corrupted on their way to the guest client (as a
// faulty device or server would): the call that sent the request fails with EIO,
// nothing traps, and the share keeps working for the next call.

import Foundation
import Glibc
@testable import GuestFileSystem
import Passthrough
import Testing

/// A guest call and the request of it whose reply is corrupted.
struct CorruptedOperation: CustomTestStringConvertible, Sendable {
    let opcode: FuseOpcode
    /// The reply carries a record the client decodes (a short one is an error, not a short result).
    let replyHasBody: Bool
    let perform: @Sendable (MountedShare) throws(Errno) -> Void

    var testDescription: String { FuseOpcode.name(of: opcode.rawValue) }

    static let all: [CorruptedOperation] = [
        // stat of a name not yet looked up.
        CorruptedOperation(opcode: .lookup, replyHasBody: true) { share throws(Errno) in
            _ = try Posix.stat(share.guest("file"))
        },
        // With cache=never every stat sends GETATTR after the LOOKUP.
        CorruptedOperation(opcode: .getattr, replyHasBody: true) { share throws(Errno) in
            _ = try Posix.stat(share.guest("file"))
        },
        CorruptedOperation(opcode: .create, replyHasBody: true) { share throws(Errno) in
            _ = try Posix.open(share.guest("created"), [.writeOnly, .create])
        },
        CorruptedOperation(opcode: .open, replyHasBody: true) { share throws(Errno) in
            _ = try Posix.open(share.guest("file"), .readOnly)
        },
        CorruptedOperation(opcode: .mkdir, replyHasBody: true) { share throws(Errno) in
            try Posix.mkdir(share.guest("newdir"))
        },
        CorruptedOperation(opcode: .read, replyHasBody: false) { share throws(Errno) in
            let fd = try Posix.open(share.guest("file"), .readOnly)
            defer { try? Posix.close(fd) }
            var buffer = [UInt8](repeating: 0, count: 100)
            _ = try Posix.read(fd, into: &buffer)
        },
        // The client gathers the write; fsync sends it and reports its error.
        CorruptedOperation(opcode: .write, replyHasBody: true) { share throws(Errno) in
            let fd = try Posix.open(share.guest("file"), .writeOnly)
            defer { try? Posix.close(fd) }
            _ = try Posix.write(fd, "data")
            try Posix.fsync(fd)
        },
        CorruptedOperation(opcode: .setattr, replyHasBody: true) { share throws(Errno) in
            try Posix.truncate(share.guest("file"), 1)
        },
        CorruptedOperation(opcode: .readdirplus, replyHasBody: true) { share throws(Errno) in
            let directory = try Posix.opendir(share.guest(""))
            defer { try? Posix.closedir(directory) }
            while try Posix.readdir(directory) != nil {}
        },
        CorruptedOperation(opcode: .opendir, replyHasBody: true) { share throws(Errno) in
            let directory = try Posix.opendir(share.guest(""))
            try? Posix.closedir(directory)
        },
        CorruptedOperation(opcode: .statfs, replyHasBody: true) { share throws(Errno) in
            _ = try Posix.statfs(share.guest(""))
        },
        CorruptedOperation(opcode: .fsync, replyHasBody: false) { share throws(Errno) in
            let fd = try Posix.open(share.guest("file"), .writeOnly)
            defer { try? Posix.close(fd) }
            try Posix.fsync(fd)
        },
        CorruptedOperation(opcode: .unlink, replyHasBody: false) { share throws(Errno) in
            try Posix.unlink(share.guest("file"))
        },
        CorruptedOperation(opcode: .rename, replyHasBody: false) { share throws(Errno) in
            try Posix.rename(share.guest("file"), share.guest("renamed"))
        },
    ]
}

/// One fault in the reply to one operation's request.
struct Corruption: CustomTestStringConvertible, Sendable {
    let fault: ReplyFault
    let operation: CorruptedOperation

    var testDescription: String { "\(fault.testDescription) \(operation.testDescription)" }

    /// Every fault for every operation, except truncating a reply that has no body to truncate
    /// (READ data may be short, and FSYNC, UNLINK, RENAME answer with the header alone) and
    /// corrupting names in replies that carry none.
    static let all: [Corruption] = ReplyFault.allCases.flatMap { fault in
        CorruptedOperation.all.compactMap { operation in
            if fault == .truncatedBody && !operation.replyHasBody { return nil }
            if fault.onlyInListings && operation.opcode != .readdirplus { return nil }
            return Corruption(fault: fault, operation: operation)
        }
    }
}

extension GuestClient {
    @Suite struct CorruptReplies {
        @Test(arguments: Corruption.all)
        func aCorruptedReplyIsEIO(_ corruption: Corruption) throws {
            let (fault, operation) = (corruption.fault, corruption.operation)
            let share = try MountedShare(cache: .never)
            writeHostFile(share.host("file"), pattern(1000))

            share.transport.inject(fault, into: operation.opcode)
            #expect(failure { try operation.perform(share) } == .EIO)
            #expect(share.transport.faultApplied, "the operation sent \(operation.testDescription)")

            // The session survives: the next calls get correct replies.
            #expect(try Posix.stat(share.guest("")).kind == .directory)
            #expect(try Posix.statfs(share.guest("")).totalBlocks > 0)
            try Posix.writeFile(share.guest("after"), [1, 2, 3])
            #expect(try Posix.readFile(share.guest("after")) == [1, 2, 3])
            #expect(hostBytes(share.host("after")) == [1, 2, 3])
        }

        @Test(arguments: ReplyFault.allCases.filter { !$0.onlyInListings })
        func aCorruptedInitReplyFailsTheMount(fault: ReplyFault) throws {
            let directory = try MountedShare.makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let transport = InProcessVirtioFS(server: try MountedShare.makeServer(PassthroughOptions(sharedDir: directory)))
            defer { transport.disconnect() }
            transport.inject(fault, into: .`init`)
            #expect(failure { try FuseFileSystem(device: transport.device) } == .EIO)
            #expect(transport.faultApplied)
        }
    }
}
