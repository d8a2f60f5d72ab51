import ScatterGather
import SwiftFSProtocol

/// STATFS, ACCESS and the extended attribute requests.
extension FuseServer {
    func statfs(_ context: RequestContext, _ node: NodeID, _ reply: inout ScatterWriter) throws(Errno) {
        var out = FuseStatfsOut()
        out.st = try fileSystem.statfs(context, node: node)
        try reply.put(out)
    }

    func access(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader) throws(Errno) {
        let accessIn = try request.take(FuseAccessIn.self)
        try fileSystem.access(context, node: node, mask: accessIn.mask)
    }

    func setxattr(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader) throws(Errno) {
        // Without FUSE_SETXATTR_EXT (not negotiated) the kernel sends the 8-byte layout: size, flags.
        var setxattrIn = FuseSetxattrIn()
        guard request.remaining >= FuseCompatSize.setxattrIn else { throw Errno.EINVAL }
        _ = withUnsafeMutableBytes(of: &setxattrIn) { raw in
            request.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<FuseCompatSize.setxattrIn]))
        }
        let size = Int(setxattrIn.size)
        guard size <= ArgumentLimits.xattrValueMax else { throw Errno.E2BIG }
        let limit = ArgumentLimits.xattrNameMax + 1 + size
        try request.withArgumentStrings(limit: limit) { (s) throws(Errno) in
            let name = try xattrName(&s)
            let value = try s.nextBytes(size)
            try fileSystem.setxattr(context, node: node, name: name, value: value, flags: setxattrIn.flags)
        }
    }

    func getxattr(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader,
                  _ reply: inout ScatterWriter) throws(Errno) {
        let getxattrIn = try request.take(FuseGetxattrIn.self)
        try request.withArgumentStrings(limit: ArgumentLimits.xattrNameMax + 1) { (s) throws(Errno) in
            let name = try xattrName(&s)
            try replyWithSizedValue(Int(getxattrIn.size), &reply) { (buffer) throws(Errno) in
                try fileSystem.getxattr(context, node: node, name: name, into: buffer)
            }
        }
    }

    func listxattr(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader,
                   _ reply: inout ScatterWriter) throws(Errno) {
        let getxattrIn = try request.take(FuseGetxattrIn.self)
        try replyWithSizedValue(Int(getxattrIn.size), &reply) { (buffer) throws(Errno) in
            try fileSystem.listxattr(context, node: node, into: buffer)
        }
    }

    func removexattr(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader) throws(Errno) {
        try request.withArgumentStrings(limit: ArgumentLimits.xattrNameMax + 1) { (s) throws(Errno) in
            try fileSystem.removexattr(context, node: node, name: try xattrName(&s))
        }
    }

    private func xattrName(_ s: inout ArgumentStrings) throws(Errno) -> CString {
        let name = try s.next()
        guard name.count > 0 else { throw Errno.EINVAL }
        guard name.count <= ArgumentLimits.xattrNameMax else { throw Errno.ERANGE }
        return name
    }

    /// The getxattr/listxattr convention: size 0 asks for the length
    /// (fuse_getxattr_out); otherwise the value itself, ERANGE if larger than size.
    private func replyWithSizedValue(_ size: Int, _ reply: inout ScatterWriter,
                                     _ produce: (UnsafeMutableRawBufferPointer?) throws(Errno) -> Int) throws(Errno) {
        if size == 0 {
            var out = FuseGetxattrOut()
            out.size = UInt32(clamping: try produce(nil))
            try reply.put(out)
            return
        }
        let capacity = min(size, ArgumentLimits.xattrValueMax)
        let result: Result<Void, Errno> = withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 1) { buffer in
            do throws(Errno) {
                let length = try produce(buffer)
                guard length >= 0, length <= capacity else { throw Errno.ERANGE }
                guard reply.write(bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<length])) else { throw Errno.ERANGE }
                return .success(())
            } catch { return .failure(error) }
        }
        try result.get()
    }
}
