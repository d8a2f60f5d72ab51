@testable import FuseServer
import Glibc
@testable import Passthrough
import Synchronization
import SwiftFSProtocol
import SystemSupport
import Testing

@Suite struct LockTests {
    func lock(_ kind: FileLock.Kind, _ start: UInt64, _ end: UInt64, pid: UInt32 = 10) -> FileLock {
        FileLock(kind: kind, start: start, end: end, pid: pid)
    }

    @Test func writeLocksConflictBetweenOwnersNotWithinOne() throws {
        let t = try PassthroughFixture()
        let (entry, handle) = try t.create("f")
        let owner1 = FileLock.Request(owner: 1, handle: handle, isFlock: false)
        let owner2 = FileLock.Request(owner: 2, handle: handle, isFlock: false)
        try t.fs.setlk(t.root, node: entry.node, request: owner1, lock: lock(.write, 0, 99, pid: 111), wait: false)
        #expect(throws: Errno.EAGAIN) { try t.fs.setlk(t.root, node: entry.node, request: owner2, lock: lock(.read, 99, 200), wait: false) }
        let conflict = try t.fs.getlk(t.root, node: entry.node, request: owner2, lock: lock(.read, 50, 50))
        #expect(conflict == FileLock(kind: .write, start: 0, end: 99, pid: 111))
        #expect(try t.fs.getlk(t.root, node: entry.node, request: owner1, lock: lock(.write, 0, 99)).kind == .unlock)
        // Same owner: upgrade/downgrade in place.
        try t.fs.setlk(t.root, node: entry.node, request: owner1, lock: lock(.read, 0, 99), wait: false)
        try t.fs.setlk(t.root, node: entry.node, request: owner2, lock: lock(.read, 0, 99), wait: false)
        #expect(throws: Errno.EAGAIN) { try t.fs.setlk(t.root, node: entry.node, request: owner1, lock: lock(.write, 0, 0), wait: false) }
    }

    @Test func unlockingTheMiddleSplitsARange() throws {
        let t = try PassthroughFixture()
        let (entry, handle) = try t.create("f")
        let owner1 = FileLock.Request(owner: 1, handle: handle, isFlock: false)
        let owner2 = FileLock.Request(owner: 2, handle: handle, isFlock: false)
        try t.fs.setlk(t.root, node: entry.node, request: owner1, lock: lock(.write, 0, 99), wait: false)
        try t.fs.setlk(t.root, node: entry.node, request: owner1, lock: lock(.unlock, 40, 59), wait: false)
        try t.fs.setlk(t.root, node: entry.node, request: owner2, lock: lock(.write, 45, 50), wait: false)
        #expect(throws: Errno.EAGAIN) { try t.fs.setlk(t.root, node: entry.node, request: owner2, lock: lock(.write, 10, 20), wait: false) }
        #expect(throws: Errno.EAGAIN) { try t.fs.setlk(t.root, node: entry.node, request: owner2, lock: lock(.write, 60, 60), wait: false) }
    }

    @Test func flushReleasesTheOwnersLocks() throws {
        let t = try PassthroughFixture()
        let (entry, handle) = try t.create("f")
        let owner1 = FileLock.Request(owner: 1, handle: handle, isFlock: false)
        let owner2 = FileLock.Request(owner: 2, handle: handle, isFlock: false)
        try t.fs.setlk(t.root, node: entry.node, request: owner1, lock: lock(.write, 0, FileLock.toEndOfFile), wait: false)
        // Negative control: before the flush, owner 2 conflicts with owner 1.
        #expect(throws: Errno.EAGAIN) { try t.fs.setlk(t.root, node: entry.node, request: owner2, lock: lock(.write, 0, 10), wait: false) }
        // A flush by another owner releases nothing.
        try t.fs.flush(t.root, node: entry.node, handle: handle, lockOwner: 2)
        #expect(try t.fs.getlk(t.root, node: entry.node, request: owner2, lock: lock(.write, 0, 10)).kind == .write)
        try t.fs.flush(t.root, node: entry.node, handle: handle, lockOwner: 1)
        #expect(try t.fs.getlk(t.root, node: entry.node, request: owner2, lock: lock(.write, 0, 10)).kind == .unlock)
        #expect(throws: Never.self) { try t.fs.setlk(t.root, node: entry.node, request: owner2, lock: lock(.write, 0, 10), wait: false) }
    }

    @Test func setlkwWaitsForTheReleaseAndThenSucceeds() throws {
        let t = try PassthroughFixture()
        let (entry, handle) = try t.create("f")
        let owner1 = FileLock.Request(owner: 1, handle: handle, isFlock: false)
        let owner2 = FileLock.Request(owner: 2, handle: handle, isFlock: false)
        try t.fs.setlk(t.root, node: entry.node, request: owner1, lock: lock(.write, 0, 0), wait: false)
        let acquired = Atomic<Int>(0) // 0 waiting, 1 got it, 2 failed
        let fs = t.fs
        NativeThread.runAll(count: 2) { index in
            if index == 0 {
                do {
                    try fs.setlk(RequestContext(uid: 0, gid: 0, pid: 2, unique: 77), node: entry.node, request: owner2,
                                 lock: FileLock(kind: .write, start: 0, end: 0, pid: 2), wait: true)
                    acquired.store(1, ordering: .releasing)
                } catch { acquired.store(2, ordering: .releasing) }
            } else {
                usleep(300_000)
                #expect(acquired.load(ordering: .acquiring) == 0) // still waiting while held
                try? fs.setlk(RequestContext(uid: 0, gid: 0, pid: 1, unique: 78), node: entry.node, request: owner1,
                              lock: FileLock(kind: .unlock, start: 0, end: 0, pid: 1), wait: false)
            }
        }
        #expect(acquired.load(ordering: .acquiring) == 1)
    }

    @Test func setlkwEndsWithEINTRWhenInterruptedOrTooLong() throws {
        let t = try PassthroughFixture(lockWaitLimit: .milliseconds(300))
        let (entry, handle) = try t.create("f")
        let owner1 = FileLock.Request(owner: 1, handle: handle, isFlock: false)
        let owner2 = FileLock.Request(owner: 2, handle: handle, isFlock: false)
        try t.fs.setlk(t.root, node: entry.node, request: owner1, lock: lock(.write, 0, 0), wait: false)
        // Too long.
        #expect(throws: Errno.EINTR) {
            try t.fs.setlk(t.context(unique: 5), node: entry.node, request: owner2, lock: lock(.write, 0, 0), wait: true)
        }
        // Interrupted.
        let t2 = try PassthroughFixture(lockWaitLimit: .seconds(30))
        let (entry2, handle2) = try t2.create("f")
        try t2.fs.setlk(t2.root, node: entry2.node, request: FileLock.Request(owner: 1, handle: handle2, isFlock: false),
                        lock: lock(.write, 0, 0), wait: false)
        let result = Atomic<Int32>(-1)
        let fs = t2.fs
        let start = ContinuousClock.now
        NativeThread.runAll(count: 2) { index in
            if index == 0 {
                do {
                    try fs.setlk(RequestContext(uid: 0, gid: 0, pid: 2, unique: 99), node: entry2.node,
                                 request: FileLock.Request(owner: 2, handle: handle2, isFlock: false),
                                 lock: FileLock(kind: .write, start: 0, end: 0, pid: 2), wait: true)
                    result.store(0, ordering: .releasing)
                } catch { result.store((error as? Errno)?.rawValue ?? -1, ordering: .releasing) }
            } else {
                usleep(200_000)
                fs.interrupt(unique: 99)
            }
        }
        #expect(result.load(ordering: .acquiring) == Errno.EINTR.rawValue)
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func anInterruptThatOvertakesItsSetlkwEndsTheWaitAtOnce() throws {
        let t = try PassthroughFixture(lockWaitLimit: .seconds(3))
        let (entry, handle) = try t.create("f")
        try t.fs.setlk(t.root, node: entry.node, request: FileLock.Request(owner: 1, handle: handle, isFlock: false),
                       lock: lock(.write, 0, 0), wait: false)
        // Another worker read the INTERRUPT before this SETLKW started to wait.
        t.fs.interrupt(unique: 77)
        let start = ContinuousClock.now
        #expect(throws: Errno.EINTR) {
            try t.fs.setlk(t.context(unique: 77), node: entry.node, request: FileLock.Request(owner: 2, handle: handle, isFlock: false),
                           lock: lock(.write, 0, 0), wait: true)
        }
        #expect(ContinuousClock.now - start < .seconds(1))
        // A SETLKW that can lock at once still does.
        t.fs.interrupt(unique: 78)
        try t.fs.setlk(t.context(unique: 78), node: entry.node, request: FileLock.Request(owner: 1, handle: handle, isFlock: false),
                       lock: lock(.write, 6, 6), wait: true)
    }

    @Test func flockConflictsBetweenOpenHandles() throws {
        let t = try PassthroughFixture()
        let (entry, handle1) = try t.create("f")
        let handle2 = try t.fs.open(t.root, node: entry.node, flags: OpenFlags(LinuxOpenFlags.readWrite)).handle
        let flock1 = FileLock.Request(owner: 1, handle: handle1, isFlock: true)
        let flock2 = FileLock.Request(owner: 2, handle: handle2, isFlock: true)
        try t.fs.setlk(t.root, node: entry.node, request: flock1, lock: lock(.write, 0, 0), wait: false)
        #expect(throws: Errno.EAGAIN) { try t.fs.setlk(t.root, node: entry.node, request: flock2, lock: lock(.read, 0, 0), wait: false) }
        try t.fs.setlk(t.root, node: entry.node, request: flock1, lock: lock(.unlock, 0, 0), wait: false)
        try t.fs.setlk(t.root, node: entry.node, request: flock2, lock: lock(.read, 0, 0), wait: false)
        try t.fs.setlk(t.root, node: entry.node, request: flock1, lock: lock(.read, 0, 0), wait: false) // shared
        #expect(throws: Errno.EBADF) {
            try t.fs.setlk(t.root, node: entry.node, request: FileLock.Request(owner: 3, handle: FileHandle(999), isFlock: true),
                           lock: lock(.read, 0, 0), wait: false)
        }
    }
}
