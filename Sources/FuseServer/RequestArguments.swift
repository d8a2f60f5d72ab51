import ScatterGather
import SwiftFSProtocol

/// Helpers to decode a request's arguments from the transport's buffers.
/// Every failure is EINVAL: the request is malformed.
extension ScatterReader {
    /// The next fixed-size argument record.
    mutating func take<T: WireRecord>(_: T.Type = T.self) throws(Errno) -> T {
        guard let value = read(T.self) else { throw Errno.EINVAL }
        return value
    }

    /// Copies the rest of the request (at most `limit` bytes: names, link
    /// targets, xattr values) out of the transport's buffers, so the guest
    /// cannot change them after validation, and parses it in `body`.
    mutating func withArgumentStrings<R>(limit: Int,
                                         _ body: (inout ArgumentStrings) throws(Errno) -> R) throws(Errno) -> R {
        let count = min(remaining, limit)
        guard count > 0 else { throw Errno.EINVAL }
        let result: Result<R, Errno> = withUnsafeTemporaryAllocation(of: CChar.self, capacity: count) { buffer in
            read(into: UnsafeMutableRawBufferPointer(buffer))
            var strings = ArgumentStrings(bytes: UnsafeBufferPointer(buffer))
            do throws(Errno) { return .success(try body(&strings)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

/// A cursor over argument bytes already copied out of the request.
struct ArgumentStrings {
    let bytes: UnsafeBufferPointer<CChar>
    var offset = 0

    /// The next NUL-terminated string (EINVAL without a NUL).
    mutating func next() throws(Errno) -> CString {
        var end = offset
        while end < bytes.count && bytes[end] != 0 { end += 1 }
        guard end < bytes.count else { throw Errno.EINVAL }
        let string = CString(bytesWithNUL: UnsafeBufferPointer(rebasing: bytes[offset...end]))
        offset = end + 1
        return string
    }

    /// The next string as a path component ("." and ".." only if allowed).
    mutating func nextName(allowDots: Bool = false) throws(Errno) -> FileName {
        let string = try next()
        guard string.count <= FileName.maxLength else { throw Errno.ENAMETOOLONG }
        guard let name = FileName(string, allowDots: allowDots) else { throw Errno.EINVAL }
        return name
    }

    /// The next `count` raw bytes (an xattr value).
    mutating func nextBytes(_ count: Int) throws(Errno) -> UnsafeRawBufferPointer {
        guard count >= 0, bytes.count - offset >= count else { throw Errno.EINVAL }
        let slice = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[offset..<offset + count]))
        offset += count
        return slice
    }
}

extension ScatterWriter {
    /// Appends a reply record; ERANGE if the transport's reply buffer is too small.
    mutating func put<T: WireRecord>(_ value: T) throws(Errno) {
        guard write(value) else { throw Errno.ERANGE }
    }

    /// Appends the first `count` bytes of a record (older, shorter layouts).
    mutating func put<T: WireRecord>(_ value: T, truncatedTo count: Int) throws(Errno) {
        guard count <= T.wireSize else { throw Errno.ERANGE }
        let ok = withUnsafeBytes(of: value) { raw in write(bytes: UnsafeRawBufferPointer(rebasing: raw[0..<count])) }
        guard ok else { throw Errno.ERANGE }
    }
}

/// Upper bounds for variable-length arguments (Linux limits).
enum ArgumentLimits {
    static let pathMax = 4096
    static let xattrNameMax = 255
    static let xattrValueMax = 65536
    /// Two names and their NULs, plus slack for 7.38 request extensions.
    static let names = 2 * (FileName.maxLength + 1) + 512
}
