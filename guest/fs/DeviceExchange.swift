/// The buffer lists of one request and its reply, as a transport session
/// (FUSE, 9P) hands them to its device: the request's fixed part and an
/// optional payload (WRITE data) to read, the reply's fixed part and an
/// optional payload (READ data) to write. The lists are kept between calls,
/// so no request allocates.
struct DeviceExchange {
    private(set) var readable: [DeviceBuffer] = []
    private(set) var writable: [DeviceBuffer] = []

    init() {
        readable.reserveCapacity(2)
        writable.reserveCapacity(2)
    }

    mutating func set(request: UnsafeMutableRawBufferPointer, count: Int, payload: UnsafeRawBufferPointer?,
                      reply: UnsafeMutableRawBufferPointer, fixedReplyCount: Int,
                      replyPayload: UnsafeMutableRawBufferPointer?) {
        readable.removeAll(keepingCapacity: true)
        readable.append(DeviceBuffer(base: request.baseAddress!, count: count))
        if let payload, payload.count > 0 {
            readable.append(DeviceBuffer(base: UnsafeMutableRawPointer(mutating: payload.baseAddress!), count: payload.count))
        }
        writable.removeAll(keepingCapacity: true)
        writable.append(DeviceBuffer(base: reply.baseAddress!, count: fixedReplyCount))
        if let replyPayload, replyPayload.count > 0 {
            writable.append(DeviceBuffer(base: replyPayload.baseAddress!, count: replyPayload.count))
        }
    }
}
