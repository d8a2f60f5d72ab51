import CShim
import FuseServer
import Glibc
import SwiftFSProtocol
import Testing
@testable import VhostUser

/// Every descriptor the front end passes is closed by the back end by the end
/// of the session, whatever was wrong with the message that carried it.
/// Other tests open descriptors in this process at the same time, so instead
/// of comparing counts, each descriptor sent is a memfd with its own inode and
/// the check is that no entry of /proc/self/fd still refers to one of them.
@Suite struct DescriptorLeakTests {
    /// A fresh memfd (one page), and its inode.
    private static func memfd() -> (fd: Int32, inode: UInt64) {
        let fd = shim_memfd_create("leak-test", 0)
        precondition(fd >= 0 && ftruncate(fd, 4096) == 0)
        var status = stat()
        precondition(fstat(fd, &status) == 0)
        return (fd, UInt64(status.st_ino))
    }

    /// The inodes of memfds still open in this process among `inodes`.
    private static func stillOpen(_ inodes: Set<UInt64>) -> Set<UInt64> {
        var found = Set<UInt64>()
        guard let directory = opendir("/proc/self/fd") else { return inodes }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let fd = Int32(name) else { continue }
            var status = stat()
            if fstat(fd, &status) == 0, inodes.contains(UInt64(status.st_ino)) {
                var link = [CChar](repeating: 0, count: 256)
                let length = readlink("/proc/self/fd/\(fd)", &link, link.count - 1)
                if length > 0, String(cString: link).contains("memfd:leak-test") { found.insert(UInt64(status.st_ino)) }
            }
        }
        return found
    }

    private static func bytes<T: WireRecord>(_ value: T) -> [UInt8] {
        var copy = value
        return withUnsafeBytes(of: &copy) { Array($0) }
    }

    @Test func malformedMessagesLeaveNoDescriptorOpen() {
        var sent = Set<UInt64>()
        let frontEnd = TestFrontEnd(handler: MiniFuseHandler())
        frontEnd.send(.getProtocolFeatures)
        frontEnd.send(.setProtocolFeatures, VhostUserU64(frontEnd.receiveU64()))
        let ask = VhostUserHeader.version | VhostUserHeader.needReplyFlag

        /// Sends `request` with `count` fresh memfds and waits for the reply.
        func send(_ request: VhostUserRequest, payload: [UInt8], descriptors count: Int) {
            let fds = (0..<count).map { _ in Self.memfd() }
            sent.formUnion(fds.map(\.inode))
            frontEnd.send(request, flags: ask, payload: payload, fds: fds.map(\.fd))
            for fd in fds { close(fd.fd) }
            let (header, _) = frontEnd.receive()
            #expect(header.request == request.rawValue, "\(request)")
        }

        var oneRegion = VhostUserMemoryTableHeader()
        oneRegion.regionCount = 1
        var region = VhostUserMemoryRegionDescription()
        region.guestPhysicalAddress = 0; region.memorySize = 4096; region.userAddress = 0x1000
        let tableOfOne = Self.bytes(oneRegion) + Self.bytes(region)
        var nineRegions = VhostUserMemoryTableHeader()
        nineRegions.regionCount = 9

        // A kick descriptor too many, one missing, and a payload too short.
        send(.setVringKick, payload: Self.bytes(VhostUserU64(0)), descriptors: 2)
        send(.setVringCall, payload: Self.bytes(VhostUserU64(0)), descriptors: 3)
        send(.setVringErr, payload: [1, 2], descriptors: 1)
        // SET_MEM_TABLE: more descriptors than regions, more regions than allowed, more descriptors than a message may carry.
        send(.setMemTable, payload: tableOfOne, descriptors: 3)
        send(.setMemTable, payload: Self.bytes(nineRegions), descriptors: 8)
        send(.setMemTable, payload: tableOfOne, descriptors: 12)
        // A valid table whose region is then replaced by a malformed one (payload cut short).
        send(.setMemTable, payload: tableOfOne, descriptors: 1)
        send(.setMemTable, payload: Array(tableOfOne.prefix(20)), descriptors: 1)
        // ADD_MEM_REG with a bad payload, with two descriptors; a back-end channel with two.
        send(.addMemReg, payload: [0, 0, 0], descriptors: 1)
        send(.addMemReg, payload: Self.bytes(VhostUserU64(0)) + Self.bytes(region), descriptors: 2)
        send(.setBackendReqFd, payload: [], descriptors: 2)
        // Requests that take no descriptors at all.
        send(.getFeatures, payload: [], descriptors: 2)
        send(.setVringNum, payload: [9], descriptors: 1)
        // Valid descriptors kept by the back end until the session ends.
        send(.setVringKick, payload: Self.bytes(VhostUserU64(1)), descriptors: 1)
        send(.setVringCall, payload: Self.bytes(VhostUserU64(1)), descriptors: 1)
        send(.setBackendReqFd, payload: [], descriptors: 1)
        frontEnd.disconnect()

        #expect(sent.count > 30)
        #expect(Self.stillOpen(sent).isEmpty, "descriptors left open: \(Self.stillOpen(sent).count)")
    }
}
