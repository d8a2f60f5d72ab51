import FuseServer
import Glibc
import SwiftFSProtocol

/// Runs a system call that returns -1 and sets errno on failure, retrying
/// on EINTR; the failure becomes an Errno. Not for close(2), which must
/// never be retried.
@inline(__always)
func systemCall<T: BinaryInteger>(_ call: () -> T) throws(Errno) -> T {
    while true {
        let result = call()
        if result != -1 { return result }
        let error = Errno.current
        if error.rawValue != EINTR { throw error }
    }
}

/// Calls `body` with the NUL-terminated decimal name of `fd` ("17"): the
/// entry of /proc/self/fd that reopens an O_PATH descriptor. Built on the
/// stack, from our own descriptor number: never from a guest-supplied name.
@inline(__always)
func withProcFDName<R>(_ fd: Int32, _ body: (UnsafePointer<CChar>) throws(Errno) -> R) throws(Errno) -> R {
    var digits: (UInt64, UInt64) = (0, 0) // 16 bytes: up to 10 digits and a NUL
    return try withUnsafeMutableBytes(of: &digits) { (raw) throws(Errno) -> R in
        let buffer = raw.bindMemory(to: CChar.self)
        var value = UInt32(bitPattern: fd), length = 0
        repeat { buffer[length] = CChar(48 + value % 10); value /= 10; length += 1 } while value > 0
        var i = 0, j = length - 1
        while i < j { buffer.swapAt(i, j); i += 1; j -= 1 }
        buffer[length] = 0
        return try body(UnsafePointer(buffer.baseAddress!))
    }
}
