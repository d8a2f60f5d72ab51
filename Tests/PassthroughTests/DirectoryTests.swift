@testable import FuseServer
import Glibc
@testable import Passthrough
import SwiftFSProtocol
import Testing

@Suite struct DirectoryTests {
    @Test func readdirOffsetsResumeExactlyWithManyEntries() throws {
        let t = try PassthroughFixture()
        let dir = try t.mkdir("big")
        for i in 0..<3000 { close(open(t.hostPath("big/entry-\(i)"), O_CREAT | O_WRONLY, 0o644)) }
        let handle = try t.fs.opendir(t.root, node: dir.node, flags: OpenFlags(0)).handle
        var names: [String] = []
        var offset: UInt64 = 0
        var offsets: [UInt64] = []
        while true {
            let batch = try t.readdir(dir.node, handle, offset: offset, size: 1024)
            if batch.isEmpty { break }
            names += batch.map(\.0)
            offset = batch.last!.1
            offsets.append(offset)
        }
        #expect(names.count == 3002)
        #expect(Set(names).count == 3002)
        // Restarting from a cookie in the middle yields exactly the rest.
        let middle = offsets[offsets.count / 2]
        var rest: [String] = []
        offset = middle
        while true {
            let batch = try t.readdir(dir.node, handle, offset: offset, size: 4096)
            if batch.isEmpty { break }
            rest += batch.map(\.0)
            offset = batch.last!.1
        }
        #expect(Array(names.suffix(rest.count)) == rest)
        #expect(rest.count > 0 && rest.count < 3002)
        try t.fs.releasedir(t.root, node: dir.node, handle: handle)
        #expect(throws: Errno.EBADF) { try t.readdir(dir.node, handle, offset: 0, size: 1024) }
    }

    @Test func readdirplusCountsOneLookupPerEntryItReturns() throws {
        let t = try PassthroughFixture()
        for i in 0..<50 { t.writeHostFile("file-\(i)", "x") }
        let handle = try t.fs.opendir(t.root, node: .root, flags: OpenFlags(0)).handle
        var entries: [(String, UInt64, UInt64)] = []
        var offset: UInt64 = 0
        while true {
            let batch = try t.readdir(.root, handle, offset: offset, size: 2048, plus: true)
            if batch.isEmpty { break }
            entries += batch
            offset = batch.last!.1
        }
        #expect(entries.count == 52)
        for (name, _, node) in entries {
            if name == "." || name == ".." {
                #expect(node == 0)
            } else {
                #expect(t.fs.inodes.lookupCount(NodeID(node)) == 1, "\(name)")
            }
        }
    }

    @Test func tinyBuffersNeverLoseEntries() throws {
        let t = try PassthroughFixture()
        for i in 0..<20 { t.writeHostFile(String(repeating: "n", count: 200) + "\(i)", "") }
        let handle = try t.fs.opendir(t.root, node: .root, flags: OpenFlags(0)).handle
        var count = 0
        var offset: UInt64 = 0
        while true {
            // Room for exactly one long entry per request.
            let batch = try t.readdir(.root, handle, offset: offset, size: 240)
            if batch.isEmpty { break }
            #expect(batch.filter { $0.0.count > 2 }.count <= 1) // one long name per request, "." and ".." share one
            count += batch.count
            offset = batch.last!.1
        }
        #expect(count == 22)
    }

    @Test func fsyncdirAndStatfs() throws {
        let t = try PassthroughFixture()
        let handle = try t.fs.opendir(t.root, node: .root, flags: OpenFlags(0)).handle
        try t.fs.fsyncdir(t.root, node: .root, handle: handle, dataOnly: false)
        let st = try t.fs.statfs(t.root, node: .root)
        #expect(st.blocks > 0 && st.namelen == 255)
    }
}
