import Glibc
import ScatterGather
import SwiftFSProtocol

/// What a transport (virtqueue, /dev/fuse) hands requests to. The transport
/// owns the memory behind both views; the handler decodes the request from
/// `request`, writes the complete reply (fuse_out_header first) into
/// `reply`, and returns the reply length in bytes, or 0 when the request
/// takes no reply (FORGET, BATCH_FORGET) or the request was dropped.
///
/// A transport that schedules requests (a virtqueue) first asks for the
/// request's head: the header, copied once out of memory the guest can still
/// change, plus what the transport needs to decide (may it block?). It then
/// hands that same head back with the request, so the decision and the
/// server see the same header. Transports never read FUSE bytes themselves.
///
/// Called concurrently from several worker threads.
public protocol FuseRequestHandler: Sendable {
    /// Copies the header at the start of `request` (a copy of the caller's view).
    func readHead(_ request: ScatterReader) -> FuseRequestHead
    /// Serves the request whose head is `head`; `request` starts at the header, which is skipped, not read again.
    func handle(head: FuseRequestHead, request: inout ScatterReader, reply: inout ScatterWriter) -> Int
    /// Ends every request waiting indefinitely (a SETLKW waiting for a lock) at once, with EINTR:
    /// a transport stopping a queue must not wait for them.
    func interruptBlockedRequests()
    /// The transport's device was reset or its peer hung up (a new driver
    /// will start with INIT): end the session as DESTROY would, and forget
    /// the DAX mappings the device dropped.
    func deviceReset()
}

/// A request's header, copied out of the transport's buffers.
public struct FuseRequestHead: Sendable {
    /// nil when the request is shorter than a header.
    public let header: FuseInHeader?
    /// The request may wait indefinitely (FUSE_SETLKW): run it where it cannot hold up the others.
    public let mayBlock: Bool

    public init(header: FuseInHeader?, mayBlock: Bool) {
        self.header = header
        self.mayBlock = mayBlock
    }
}

extension FuseRequestHandler {
    public func readHead(_ request: ScatterReader) -> FuseRequestHead {
        var view = request
        return FuseRequestHead(header: view.read(FuseInHeader.self), mayBlock: false)
    }

    /// One step, for transports that schedule nothing (/dev/fuse).
    public func handle(request: inout ScatterReader, reply: inout ScatterWriter) -> Int {
        handle(head: readHead(request), request: &request, reply: &reply)
    }

    /// One step for a request in one buffer and a reply into another (/dev/fuse
    /// reads whole requests; the fuzz target feeds byte strings).
    public func handle(request: UnsafeRawBufferPointer, reply: UnsafeMutableRawBufferPointer) -> Int {
        handle(head: readHead(request), request: request, reply: reply)
    }

    /// The head of a request in one buffer.
    public func readHead(_ request: UnsafeRawBufferPointer) -> FuseRequestHead {
        var segment = iovec(iov_base: UnsafeMutableRawPointer(mutating: request.baseAddress), iov_len: request.count)
        return withUnsafePointer(to: &segment) { readHead(ScatterReader(segments: UnsafeBufferPointer(start: $0, count: 1))) }
    }

    /// One step for a request in one buffer whose head the caller read (`readHead`) to schedule it.
    public func handle(head: FuseRequestHead, request: UnsafeRawBufferPointer, reply: UnsafeMutableRawBufferPointer) -> Int {
        var requestSegment = iovec(iov_base: UnsafeMutableRawPointer(mutating: request.baseAddress), iov_len: request.count)
        var replySegment = iovec(iov_base: reply.baseAddress, iov_len: reply.count)
        return withUnsafePointer(to: &requestSegment) { requestSegments in
            withUnsafePointer(to: &replySegment) { replySegments in
                var reader = ScatterReader(segments: UnsafeBufferPointer(start: requestSegments, count: 1))
                var writer = ScatterWriter(segments: UnsafeBufferPointer(start: replySegments, count: 1))
                return handle(head: head, request: &reader, reply: &writer)
            }
        }
    }

    public func interruptBlockedRequests() {}
    public func deviceReset() {}
}
