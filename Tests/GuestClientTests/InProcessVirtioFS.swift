// The guest's virtio-fs device answered in-process by the real FuseServer: a
// descriptor chain's readable buffers are the request and its writable buffers
// the room for the reply, exactly as the vhost-user back end hands a chain to the
// server, only without guest memory and a virtqueue in between.

import FuseServer
import Glibc
@testable import GuestFileSystem
import Passthrough
import ScatterGather

final class InProcessVirtioFS {
    let server: FuseServer<PassthroughFileSystem>
    /// The guest client's device (guest/hosttest/HostKernelShim.swift): its responder is this transport.
    let device = VirtioFSDevice(tag: "guest-client-test")
    /// A fault to inject into the next reply to a request of this opcode (then cleared).
    private var pendingFault: (opcode: FuseOpcode, fault: ReplyFault)? = nil
    /// Whether the injected fault has been applied to a reply.
    private(set) var faultApplied = false

    init(server: FuseServer<PassthroughFileSystem>) {
        self.server = server
        device.responder = { [unowned self] readable, writable in self.respond(readable, writable) }
    }

    /// Disconnects the device from the server (the guest's FuseFileSystem stays mounted,
    /// holding the device; every later request fails with EIO as from a broken device).
    func disconnect() { device.responder = nil }

    func inject(_ fault: ReplyFault, into opcode: FuseOpcode) {
        pendingFault = (opcode, fault)
        faultApplied = false
    }

    private func respond(_ readable: [DeviceBuffer], _ writable: [DeviceBuffer]) -> Int? {
        let written = serve(readable, writable)
        guard let pending = pendingFault, !writable.isEmpty,
              let opcode = Self.opcode(of: readable), opcode == pending.opcode else { return written }
        pendingFault = nil
        faultApplied = true
        return pending.fault.apply(toReplyIn: writable, written: written)
    }

    /// One request through the real server; the reply length (0: no reply, as for FORGET).
    private func serve(_ readable: [DeviceBuffer], _ writable: [DeviceBuffer]) -> Int {
        let requestSegments = readable.map { iovec(iov_base: $0.base, iov_len: $0.count) }
        let replySegments = writable.map { iovec(iov_base: $0.base, iov_len: $0.count) }
        return requestSegments.withUnsafeBufferPointer { requestVectors in
            replySegments.withUnsafeBufferPointer { replyVectors in
                var request = ScatterReader(segments: requestVectors)
                var reply = ScatterWriter(segments: replyVectors)
                return server.handle(request: &request, reply: &reply)
            }
        }
    }

    private static func opcode(of readable: [DeviceBuffer]) -> FuseOpcode? {
        guard let first = readable.first, first.count >= FuseInHeader.wireSize else { return nil }
        return FuseOpcode(rawValue: first.base.loadUnaligned(as: FuseInHeader.self).opcode)
    }
}
