import CShim
import Glibc

/// Sends `bytes` on a Unix socket with `descriptors` attached (SCM_RIGHTS),
/// as one sendmsg, retried on EINTR. Returns what sendmsg returned (bytes
/// sent, or -1 with errno set); the caller sends any rest as plain data.
/// The descriptors stay the caller's: the receiver gets copies.
public func sendPassingDescriptors(_ socket: Int32, _ bytes: UnsafeRawBufferPointer, descriptors: [Int32]) -> Int {
    let controlLength = descriptors.isEmpty ? 0 : shim_cmsg_space(MemoryLayout<Int32>.size * descriptors.count)
    let control = UnsafeMutableRawPointer.allocate(byteCount: max(controlLength, 8), alignment: 8)
    defer { control.deallocate() }
    var iov = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
    return withUnsafeMutablePointer(to: &iov) { iovPointer in
        var message = msghdr()
        message.msg_iov = iovPointer
        message.msg_iovlen = 1
        if !descriptors.isEmpty {
            message.msg_control = control
            message.msg_controllen = controlLength
            let header = shim_cmsg_firsthdr(&message)!
            header.pointee.cmsg_level = SOL_SOCKET
            header.pointee.cmsg_type = Int32(SCM_RIGHTS)
            header.pointee.cmsg_len = shim_cmsg_len(MemoryLayout<Int32>.size * descriptors.count)
            let data = UnsafeMutableRawPointer(shim_cmsg_data(header)!)
            for (index, descriptor) in descriptors.enumerated() {
                data.storeBytes(of: descriptor, toByteOffset: MemoryLayout<Int32>.size * index, as: Int32.self)
            }
        }
        var sent: Int
        repeat { sent = sendmsg(socket, &message, Int32(MSG_NOSIGNAL)) } while sent < 0 && errno == EINTR
        return sent
    }
}
