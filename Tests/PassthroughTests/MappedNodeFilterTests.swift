import FuseServer
import Glibc
@testable import Passthrough
import SwiftFSProtocol
import SystemSupport
import Testing

/// The DAX table's lock-free "may this node have mappings?" answer stays in
/// step with the table: yes while a node has a mapping, no once every one is
/// gone (removed, failed, forgotten at a reset), so a WRITE to an unmapped
/// file can skip the table and a mapped one never does.
@Suite struct MappedNodeFilterTests {
    static let slot = DaxGeometry.alignment

    final class Window {
        let path = "/dev/shm/swiftfs-filter-test-\(getpid())-\(UInt64.random(in: 0..<UInt64.max))"
        let mapper: DaxWindowFile
        let filePath: String
        init() throws {
            let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            #expect(ftruncate(fd, off_t(4 * MappedNodeFilterTests.slot)) == 0)
            close(fd)
            mapper = try DaxWindowFile(path: path, size: 4 * MappedNodeFilterTests.slot)
            filePath = path + ".file"
            let file = open(filePath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            _ = "contents".withCString { write(file, $0, 8) }
            close(file)
        }
        func openFile(node: UInt64) -> OpenFile {
            OpenFile(OwnedDescriptor(open(filePath, O_RDWR | O_CLOEXEC)), node: NodeID(node))
        }
        deinit { unlink(path); unlink(filePath) }
    }

    @Test func countsFollowMapUnmapAndForget() throws {
        let window = try Window()
        let table = DaxMappingTable(mappers: DaxMapperSlot(window.mapper))
        let mapped = NodeID(7), other = NodeID(8)
        #expect(!table.mappedNodes.mayBeMapped(mapped))

        try table.map(DaxRange(windowOffset: 0, fileOffset: 0, length: 2 * Self.slot), file: window.openFile(node: 7),
                      writable: true, mapper: window.mapper)
        #expect(table.mappedNodes.mayBeMapped(mapped))
        #expect(!table.mappedNodes.mayBeMapped(other), "node ids 7 and 8 fall in different buckets")

        try table.unmap([(offset: 0, length: Self.slot)], mapper: window.mapper)
        #expect(table.mappedNodes.mayBeMapped(mapped), "one of its two slots is still mapped")
        try table.unmap([(offset: Self.slot, length: Self.slot)], mapper: window.mapper)
        #expect(!table.mappedNodes.mayBeMapped(mapped))

        // Replacing another node's slot moves the count; a reset forgets all.
        try table.map(DaxRange(windowOffset: 0, fileOffset: 0, length: Self.slot), file: window.openFile(node: 7),
                      writable: false, mapper: window.mapper)
        try table.map(DaxRange(windowOffset: 0, fileOffset: 0, length: Self.slot), file: window.openFile(node: 8),
                      writable: false, mapper: window.mapper)
        #expect(!table.mappedNodes.mayBeMapped(mapped) && table.mappedNodes.mayBeMapped(other))
        table.forgetAll()
        #expect(!table.mappedNodes.mayBeMapped(other) && table.count == 0)
    }

    @Test func aFailedMapLeavesNoCount() throws {
        let window = try Window()
        let table = DaxMappingTable(mappers: DaxMapperSlot(window.mapper))
        // A descriptor the fill cannot read from (write-only): the map fails, nothing is counted.
        let writeOnly = OpenFile(OwnedDescriptor(open(window.filePath, O_WRONLY | O_CLOEXEC)), node: NodeID(9))
        #expect(throws: Errno.self) {
            try table.map(DaxRange(windowOffset: 0, fileOffset: 0, length: Self.slot), file: writeOnly,
                          writable: false, mapper: window.mapper)
        }
        #expect(!table.mappedNodes.mayBeMapped(NodeID(9)) && table.count == 0)
    }
}
