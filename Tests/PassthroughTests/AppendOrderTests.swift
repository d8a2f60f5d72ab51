@testable import FuseServer
import Glibc
@testable import Passthrough
import SwiftFSProtocol
import SystemSupport
import Testing

/// WRITEs of a handle the guest opened with O_APPEND: the host file is
/// O_APPEND too, so the pieces of one split O_DIRECT write (each with its own
/// offset, served by several threads) must reach it in offset order.
@Suite struct AppendOrderTests {
    let appending = OpenFlags(LinuxOpenFlags.writeOnly | LinuxOpenFlags.append)

    func hostText(_ t: PassthroughFixture, _ name: String) -> String {
        let fd = open(t.hostPath(name), O_RDONLY)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = read(fd, &buffer, buffer.count)
        return String(decoding: buffer[0..<max(n, 0)], as: UTF8.self)
    }

    func milliseconds(_ body: () throws -> Void) rethrows -> Int {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        let elapsed = clock.now - start
        return Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
    }

    @Test func aPieceServedBeforeItsPredecessorWaitsForIt() throws {
        let t = try PassthroughFixture()
        t.writeHostFile("f", "head")
        let node = try t.lookup("f").node
        let handle = try t.fs.open(t.root, node: node, flags: appending).handle
        NativeThread.runAll(count: 2) { index in
            if index == 0 {
                _ = try? t.write(node, handle, Array("BBBB".utf8), at: 8) // the second piece, first
            } else {
                usleep(50_000)
                _ = try? t.write(node, handle, Array("AAAA".utf8), at: 4)
            }
        }
        #expect(hostText(t, "f") == "headAAAABBBB")
    }

    @Test func aStaleGuestSizeStillAppends() throws {
        let t = try PassthroughFixture { $0.appendOrderWait = .milliseconds(100) }
        t.writeHostFile("f", "0123456789")
        let node = try t.lookup("f").node
        let handle = try t.fs.open(t.root, node: node, flags: appending).handle
        // The host appended: the guest's offset is behind the end, and the write goes at once.
        let host = open(t.hostPath("f"), O_WRONLY | O_APPEND)
        _ = write(host, "++", 2)
        close(host)
        #expect(try milliseconds { _ = try t.write(node, handle, Array("ab".utf8), at: 10) } < 90)
        #expect(hostText(t, "f") == "0123456789++ab")
        // A write that continues the last one goes at once, wherever the end is.
        #expect(truncate(t.hostPath("f"), 2) == 0)
        #expect(try milliseconds { _ = try t.write(node, handle, Array("xx".utf8), at: 12) } < 90)
        // The host truncated: the guest's offset is past the end and nothing comes before it, so
        // after the wait it appends, and the write that continues it goes at once.
        #expect(truncate(t.hostPath("f"), 2) == 0)
        #expect(try milliseconds { _ = try t.write(node, handle, Array("yy".utf8), at: 20) } >= 100)
        #expect(try milliseconds { _ = try t.write(node, handle, Array("zz".utf8), at: 22) } < 90)
        #expect(hostText(t, "f") == "01yyzz")
    }

    @Test func writesWithoutOAppendGoWhereTheySay() throws {
        let t = try PassthroughFixture()
        let (entry, handle) = try t.create("f")
        #expect(try t.write(entry.node, handle, Array("late".utf8), at: 8) == 4)
        #expect(try t.write(entry.node, handle, Array("head".utf8), at: 0) == 4)
        #expect(hostText(t, "f") == "head\0\0\0\0late")
    }
}
