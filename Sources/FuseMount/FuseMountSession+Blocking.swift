import FuseServer
import Glibc
import SystemSupport

extension FuseMountSession {
    /// Serves a request that may wait indefinitely (SETLKW) on a thread of its own,
    /// from a copy, replying through `device` (the descriptor it was read from: the
    /// kernel matches a reply only there). False if no thread could be started.
    func serveOnItsOwnThread(_ request: UnsafeRawBufferPointer, head: FuseRequestHead,
                                         device: FuseDevice) -> Bool {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: request.count, alignment: 8)
        copy.copyMemory(from: request)
        let buffers = BlockedRequest(request: UnsafeRawBufferPointer(copy), head: head, replySize: bufferSize)
        let started = NativeThread.start(name: "swiftfs-fuse-lk") { [self] in
            let reply = UnsafeMutableRawBufferPointer.allocate(byteCount: buffers.replySize, alignment: 4096)
            defer {
                reply.deallocate()
                buffers.request.deallocate()
            }
            let length = handler.handle(head: buffers.head, request: buffers.request, reply: reply)
            if length > 0 && Glibc.write(device.fd, reply.baseAddress, length) < 0 && errno != ENOENT && errno != ENODEV {
                logger.warning("write /dev/fuse: errno \(errno)")
            }
        }
        guard let started else {
            copy.deallocate()
            return false
        }
        started.detach()
        return true
    }
}

/// A blocked request's copy, handed to its thread (which frees it).
private struct BlockedRequest: @unchecked Sendable {
    let request: UnsafeRawBufferPointer
    let head: FuseRequestHead
    let replySize: Int
}
