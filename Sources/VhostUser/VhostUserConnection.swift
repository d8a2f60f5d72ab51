import CShim
import Glibc
import SwiftFSProtocol
import SystemSupport

/// One vhost-user connection (a connected Unix stream socket): receives
/// messages with their file descriptors and sends replies.
public struct VhostUserConnection: ~Copyable {
    private let socket: OwnedDescriptor
    public var fd: Int32 { socket.rawValue }
    /// QEMU sends at most 8 descriptors (one per memory region) per message.
    static let maxFileDescriptors = 8

    /// Serves the connected socket `descriptor`, and closes it when done.
    public init(_ descriptor: consuming OwnedDescriptor) { self.socket = descriptor }

    /// The next message, or nil when the front end closed the connection.
    public func receive() throws(VhostUserError) -> VhostUserMessage? {
        var header = VhostUserHeader()
        var descriptors = ReceivedDescriptors([])
        var descriptorsDropped = false
        // The descriptors are owned from here on: closed on every error path below, or by the message.
        let got = withUnsafeMutableBytes(of: &header) {
            receiveWithDescriptors(into: $0, descriptors: &descriptors, dropped: &descriptorsDropped)
        }
        switch got {
        case .failure(let error): throw error
        case .success(0): return nil
        case .success(let count) where count < VhostUserHeader.wireSize:
            // The rest of a split header; descriptors come only with the first byte.
            let rest = withUnsafeMutableBytes(of: &header) {
                readFully(UnsafeMutableRawBufferPointer(rebasing: $0[count...]))
            }
            guard rest else { throw .invalidMessage("connection closed inside a header") }
        default: break
        }
        guard header.flags & VhostUserHeader.versionMask == VhostUserHeader.version else {
            throw .invalidMessage("unsupported vhost-user version in flags 0x\(String(header.flags, radix: 16))")
        }
        guard Int(header.size) <= VhostUserHeader.maxPayload else {
            throw .invalidMessage("payload of \(header.size) bytes")
        }
        var payload = [UInt8](repeating: 0, count: Int(header.size))
        let ok = payload.withUnsafeMutableBytes { readFully($0) }
        guard ok else { throw .invalidMessage("connection closed inside a payload") }
        return VhostUserMessage(header: header, payload: payload, fds: descriptors, descriptorsDropped: descriptorsDropped)
    }

    /// Sends a reply to `request` with `payload`.
    public func reply(to request: UInt32, payload: UnsafeRawBufferPointer) throws(VhostUserError) {
        let header = VhostUserHeader(request: request, flags: VhostUserHeader.version | VhostUserHeader.replyFlag,
                                     size: UInt32(payload.count))
        var bytes = [UInt8](repeating: 0, count: VhostUserHeader.wireSize + payload.count)
        bytes.withUnsafeMutableBytes { out in
            var writer = ByteWriter(out)
            writer.write(header)
            writer.writeBytes(payload)
        }
        let error = bytes.withUnsafeBytes { writeFully($0) }
        if error != 0 { throw .system("send", errno: error) }
    }

    public func reply<T: WireRecord>(to request: UInt32, _ value: T) throws(VhostUserError) {
        var copy = value
        try withUnsafeBytes(of: &copy) { (bytes) throws(VhostUserError) in try reply(to: request, payload: bytes) }
    }

    /// Sends a request of our own (on the back-end channel), with at most one descriptor.
    public func sendRequest(_ request: UInt32, flags: UInt32, payload: UnsafeRawBufferPointer, passing descriptor: Int32?) throws(VhostUserError) {
        let header = VhostUserHeader(request: request, flags: flags, size: UInt32(payload.count))
        var bytes = [UInt8](repeating: 0, count: VhostUserHeader.wireSize + payload.count)
        bytes.withUnsafeMutableBytes { out in
            var writer = ByteWriter(out)
            writer.write(header)
            writer.writeBytes(payload)
        }
        var sent = 0
        if let descriptor {
            // The descriptor rides with the first bytes; the rest follows as plain data.
            let result = bytes.withUnsafeBytes { sendPassingDescriptors(fd, $0, descriptors: [descriptor]) }
            if result < 0 { throw .system("sendmsg", errno: errno) }
            sent = result
        }
        let error = bytes.withUnsafeBytes { writeFully(UnsafeRawBufferPointer(rebasing: $0[sent...])) }
        if error != 0 { throw .system("send", errno: error) }
    }

    /// More descriptors than fit (MSG_CTRUNC) are all closed and `dropped` is
    /// set: the message is still read whole, so the stream stays in step and
    /// the back end can refuse just that message.
    private func receiveWithDescriptors(into buffer: UnsafeMutableRawBufferPointer, descriptors: inout ReceivedDescriptors,
                                        dropped: inout Bool) -> Result<Int, VhostUserError> {
        let controlLength = shim_cmsg_space(MemoryLayout<Int32>.size * Self.maxFileDescriptors)
        let control = UnsafeMutableRawPointer.allocate(byteCount: controlLength, alignment: 8)
        defer { control.deallocate() }
        var iov = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
        return withUnsafeMutablePointer(to: &iov) { iovPointer in
            var message = msghdr()
            message.msg_iov = iovPointer
            message.msg_iovlen = 1
            message.msg_control = control
            message.msg_controllen = controlLength
            var count: Int
            repeat { count = recvmsg(fd, &message, shim_MSG_CMSG_CLOEXEC) } while count < 0 && errno == EINTR
            if count < 0 {
                if errno == ECONNRESET { return .success(0) }
                return .failure(.system("recvmsg", errno: errno))
            }
            var fds: [Int32] = []
            var cmsg = shim_cmsg_firsthdr(&message)
            while let header = cmsg {
                if header.pointee.cmsg_level == SOL_SOCKET && header.pointee.cmsg_type == Int32(SCM_RIGHTS) {
                    let bytes = header.pointee.cmsg_len - shim_cmsg_len(0)
                    let data = UnsafeRawPointer(shim_cmsg_data(header)!)
                    for i in 0..<(bytes / MemoryLayout<Int32>.size) {
                        fds.append(data.loadUnaligned(fromByteOffset: i * MemoryLayout<Int32>.size, as: Int32.self))
                    }
                }
                cmsg = shim_cmsg_nxthdr(&message, header)
            }
            // Owned at once; a truncated set is closed as it goes (replaced by none).
            descriptors = ReceivedDescriptors(fds)
            if message.msg_flags & Int32(MSG_CTRUNC) != 0 {
                descriptors = ReceivedDescriptors([])
                dropped = true
            }
            return .success(count)
        }
    }

    private func readFully(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        var done = 0
        while done < buffer.count {
            let n = read(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            done += n
        }
        return true
    }

    /// Returns 0, or the errno of the failed send.
    private func writeFully(_ buffer: UnsafeRawBufferPointer) -> Int32 {
        var done = 0
        while done < buffer.count {
            let n = send(fd, buffer.baseAddress! + done, buffer.count - done, Int32(MSG_NOSIGNAL))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return errno }
            done += n
        }
        return 0
    }
}
