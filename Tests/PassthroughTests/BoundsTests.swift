@testable import FuseServer
import Glibc
@testable import Passthrough
import Synchronization
import SwiftFSProtocol
import SystemSupport
import TestSupport
import Testing

/// Issue 6: what a guest can make the daemon keep is bounded, and each bound
/// is answered with an errno (limits lowered here; the defaults are in PassthroughLimits).
@Suite struct BoundsTests {
    func lock(_ kind: FileLock.Kind, _ start: UInt64, _ end: UInt64) -> FileLock {
        FileLock(kind: kind, start: start, end: end, pid: 10)
    }

    @Test func theDefaultsAreGenerous() {
        let limits = PassthroughLimits()
        #expect(limits.nodes >= 1 << 20 && limits.openDirectories >= 4096)
        #expect(limits.lockRecordsPerOwner >= 1024 && limits.lockRecords >= 65536 && limits.waitingLocks >= 64)
    }

    @Test func lockRecordsPerOwnerAreBoundedWithENOLCK() throws {
        let t = try PassthroughFixture { $0.limits.lockRecordsPerOwner = 8 }
        let (entry, handle) = try t.create("f")
        let owner = FileLock.Request(owner: 1, handle: handle, isFlock: false)
        // Disjoint ranges, each a record of its own.
        for i in UInt64(0)..<8 {
            try t.fs.setlk(t.root, node: entry.node, request: owner, lock: lock(.write, i * 10, i * 10 + 4), wait: false)
        }
        #expect(throws: Errno.ENOLCK) {
            try t.fs.setlk(t.root, node: entry.node, request: owner, lock: self.lock(.write, 100, 104), wait: false)
        }
        #expect(throws: Errno.ENOLCK, "SETLKW does not wait for records") {
            try t.fs.setlk(t.root, node: entry.node, request: owner, lock: self.lock(.write, 100, 104), wait: true)
        }
        // An unlock that splits a record needs one more.
        #expect(throws: Errno.ENOLCK) {
            try t.fs.setlk(t.root, node: entry.node, request: owner, lock: self.lock(.unlock, 1, 2), wait: false)
        }
        // A range that merges into existing records replaces them; another owner has its own allowance.
        try t.fs.setlk(t.root, node: entry.node, request: owner, lock: lock(.write, 0, 200), wait: false)
        #expect(t.fs.posixLocks.recordCount(owner: 1) == 1)
        let other = FileLock.Request(owner: 2, handle: handle, isFlock: false)
        try t.fs.setlk(t.root, node: entry.node, request: other, lock: lock(.write, 300, 304), wait: false)
        // Releasing gives the records back.
        try t.fs.setlk(t.root, node: entry.node, request: owner, lock: lock(.unlock, 0, .max), wait: false)
        #expect(t.fs.posixLocks.recordCount(owner: 1) == 0 && t.fs.posixLocks.recordCount() == 1)
    }

    @Test func lockRecordsOfAllOwnersAreBoundedWithENOLCK() throws {
        let t = try PassthroughFixture { $0.limits.lockRecords = 6 }
        let (first, handle) = try t.create("f")
        let (second, _) = try t.create("g")
        for owner in UInt64(1)...3 {
            let request = FileLock.Request(owner: owner, handle: handle, isFlock: false)
            try t.fs.setlk(t.root, node: first.node, request: request, lock: lock(.read, 0, 9), wait: false)
            try t.fs.setlk(t.root, node: second.node, request: request, lock: lock(.read, 0, 9), wait: false)
        }
        let fourth = FileLock.Request(owner: 4, handle: handle, isFlock: false)
        #expect(throws: Errno.ENOLCK) {
            try t.fs.setlk(t.root, node: first.node, request: fourth, lock: self.lock(.read, 20, 29), wait: false)
        }
        // Forgetting a node drops its records.
        t.fs.posixLocks.removeNode(second.node)
        #expect(t.fs.posixLocks.recordCount() == 3)
        try t.fs.setlk(t.root, node: first.node, request: fourth, lock: lock(.read, 20, 29), wait: false)
    }

    @Test func waitingLockRequestsAreBoundedWithENOLCK() throws {
        let t = try PassthroughFixture(lockWaitLimit: .seconds(30)) { $0.limits.waitingLocks = 2 }
        let (entry, handle) = try t.create("f")
        let holder = FileLock.Request(owner: 1, handle: handle, isFlock: false)
        try t.fs.setlk(t.root, node: entry.node, request: holder, lock: lock(.write, 0, 9), wait: false)
        // Two SETLKWs wait (they are interrupted below); a third is refused at once.
        let results = Mutex<[Errno?]>([])
        let third = Mutex<Errno?>(nil)
        NativeThread.runAll(count: 3) { index in
            if index < 2 {
                let owner = UInt64(index + 2)
                let request = FileLock.Request(owner: owner, handle: handle, isFlock: false)
                do throws(Errno) {
                    try t.fs.setlk(t.context(unique: owner), node: entry.node, request: request,
                                   lock: FileLock(kind: .write, start: 0, end: 9, pid: 10), wait: true)
                    results.withLock { $0.append(nil) }
                } catch { results.withLock { $0.append(error) } }
                return
            }
            for _ in 0..<1000 where t.fs.lockWaiters.waitingCount < 2 { usleep(10_000) }
            let request = FileLock.Request(owner: 4, handle: handle, isFlock: false)
            do throws(Errno) {
                try t.fs.setlk(t.context(unique: 4), node: entry.node, request: request,
                               lock: FileLock(kind: .write, start: 0, end: 9, pid: 10), wait: true)
            } catch { third.withLock { $0 = error } }
            t.fs.lockWaiters.interruptAll()
        }
        #expect(third.withLock { $0 } == .ENOLCK)
        #expect(results.withLock { $0 } == [.EINTR, .EINTR])
    }

    @Test func nodesAreBoundedWithENFILEAndForgetMakesRoom() throws {
        let t = try PassthroughFixture { $0.limits.nodes = 4 }
        var entries: [Entry] = []
        for i in 0..<4 { entries.append(try t.create("f\(i)").0) }
        #expect(throws: Errno.ENFILE) { _ = try t.create("f4") }
        #expect(throws: Errno.ENFILE) { _ = try t.mkdir("d") }
        // A known file is found again without a new node.
        #expect(try t.lookup("f0").node == entries[0].node)
        t.fs.forget(node: entries[1].node, count: 1)
        t.fs.forget(node: entries[1].node, count: 10)
        #expect(try t.lookup("f4").node != entries[1].node)
    }

    @Test func openDirectoriesAreBoundedWithEMFILE() throws {
        let t = try PassthroughFixture { $0.limits.openDirectories = 3 }
        var handles: [FileHandle] = []
        for _ in 0..<3 { handles.append(try t.fs.opendir(t.root, node: .root, flags: OpenFlags(0)).handle) }
        #expect(throws: Errno.EMFILE) { _ = try t.fs.opendir(t.root, node: .root, flags: OpenFlags(0)) }
        try t.fs.releasedir(t.root, node: .root, handle: handles.removeLast())
        _ = try t.fs.opendir(t.root, node: .root, flags: OpenFlags(0))
    }
}
