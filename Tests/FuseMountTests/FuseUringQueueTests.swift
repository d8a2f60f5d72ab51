@testable import FuseMount
import FuseServer
import Glibc
import Passthrough
import ScatterGather
import SwiftFSProtocol
import TestSupport
import Testing

/// A ring entry as the kernel fills it, served without a kernel: the request
/// is rebuilt from fuse_in_header, op_in and the payload, and every length the
/// kernel wrote is checked before use.
struct FuseUringQueueTests {
    static let capacity = 16384

    func makeQueue<Handler: FuseRequestHandler>(handler: Handler) throws -> FuseUringQueue<Handler> {
        try FuseUringQueue(queueId: 0, pinToCpu: false, fuseFd: -1, depth: 2, payloadCapacity: Self.capacity,
                           handler: handler, logger: .init(label: "test"))
    }

    /// Writes a request into `entry` the way fs/fuse/dev_uring.c does.
    func fill(_ queue: FuseUringQueue<some FuseRequestHandler>, entry: Int, opcode: UInt32, unique: UInt64, nodeId: UInt64 = 1,
              argument: [UInt8], payload: [UInt8], len: UInt32? = nil, payloadSize: UInt32? = nil) {
        let head = queue.header(entry)
        head.initializeMemory(as: UInt8.self, repeating: 0)
        var header = FuseInHeader()
        header.len = len ?? UInt32(FuseInHeader.wireSize + argument.count + payload.count)
        header.opcode = opcode
        header.unique = unique
        header.nodeID = nodeId
        let writer = ByteWriter(head)
        writer.patch(header, at: FuseUringReqHeader.inOutOffset)
        argument.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: head[FuseUringReqHeader.opInOffset...]).copyMemory(from: $0) }
        payload.withUnsafeBytes { queue.payload(entry).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        var ringEntry = FuseUringEntInOut()
        ringEntry.commitID = unique
        ringEntry.payloadSize = payloadSize ?? UInt32(payload.count)
        writer.patch(ringEntry, at: FuseUringReqHeader.entInOutOffset)
    }

    func outHeader(_ queue: FuseUringQueue<some FuseRequestHandler>, entry: Int) -> FuseOutHeader {
        ByteReader(UnsafeRawBufferPointer(queue.header(entry))).read(FuseOutHeader.self, at: FuseUringReqHeader.inOutOffset) ?? FuseOutHeader()
    }

    @Test func aLookupIsRebuiltFromHeaderAndPayloadAndAnsweredInTheEntry() throws {
        var template = Array("/tmp/swiftfs-uring.XXXXXX".utf8CString)
        let share = String(cString: mkdtemp(&template)!)
        defer { _ = system("rm -rf '\(share)'") }
        HostFiles.write(share + "/hello", "hi")
        let server = try makePassthroughServer(options: PassthroughOptions(sharedDir: share))
        let queue = try makeQueue(handler: server)
        // INIT first (through the same path, as a handler needs it), then LOOKUP "hello" in the root.
        var initIn = FuseInitIn()
        initIn.major = 7
        initIn.minor = 38
        let initBytes = withUnsafeBytes(of: initIn) { Array($0) }
        fill(queue, entry: 0, opcode: 26, unique: 1, argument: [], payload: initBytes)
        #expect(queue.serve(entry: 0) != .reply(0))
        #expect(outHeader(queue, entry: 0).error == 0)

        fill(queue, entry: 1, opcode: 1, unique: 2, argument: [], payload: Array("hello".utf8) + [0])
        guard case .reply(let length) = queue.serve(entry: 1) else { Issue.record("blocked"); return }
        let out = outHeader(queue, entry: 1)
        #expect(out.error == 0 && out.unique == 2)
        #expect(length == FuseEntryOut.wireSize, "the payload is fuse_entry_out")
        let entry = queue.payload(1).load(as: FuseEntryOut.self)
        #expect(entry.attr.size == 2)
    }

    @Test func lengthsTheKernelWroteAreCheckedBeforeUse() throws {
        let queue = try makeQueue(handler: NoReplyHandler())
        // payload_sz beyond the buffer, len shorter than header + payload, op header over 128 bytes.
        let cases: [(len: UInt32?, payloadSize: UInt32?)] = [
            (nil, UInt32(Self.capacity + 1)), (UInt32(FuseInHeader.wireSize), 100), (UInt32(FuseInHeader.wireSize + 129), 0),
            (UInt32.max, 0),
        ]
        for (len, payloadSize) in cases {
            fill(queue, entry: 0, opcode: 3, unique: 77, argument: [], payload: [], len: len, payloadSize: payloadSize)
            #expect(queue.serve(entry: 0) == .reply(0))
            let out = outHeader(queue, entry: 0)
            #expect(out.error == -EIO && out.unique == 77 && out.len == 16, "len \(String(describing: len)) payload \(String(describing: payloadSize))")
        }
        // A handler that gives no reply still gets the entry answered (EIO), never left hanging.
        fill(queue, entry: 1, opcode: 3, unique: 78, argument: [UInt8](repeating: 0, count: 16), payload: [])
        #expect(queue.serve(entry: 1) == .reply(0))
        #expect(outHeader(queue, entry: 1).error == -EIO)
    }

    struct NoReplyHandler: FuseRequestHandler {
        func handle(head: FuseRequestHead, request: inout ScatterReader, reply: inout ScatterWriter) -> Int { 0 }
    }
}
