/// NUL-terminated bytes copied out of a request (never a pointer into guest
/// memory, which the guest could change after we validated it). Borrowed:
/// valid only during the FileSystem call that receives it.
public struct CString: @unchecked Sendable, CustomStringConvertible {
    /// The bytes including the terminating NUL.
    public let bytesWithNUL: UnsafeBufferPointer<CChar>

    @inlinable public init(bytesWithNUL: UnsafeBufferPointer<CChar>) { self.bytesWithNUL = bytesWithNUL }

    /// Length without the NUL.
    @inlinable public var count: Int { bytesWithNUL.count - 1 }
    /// For system calls.
    @inlinable public var pointer: UnsafePointer<CChar> { bytesWithNUL.baseAddress! }
    public var description: String { String(cString: pointer) }
}

/// A single path component: non-empty, no '/', at most NAME_MAX bytes.
/// "." and ".." pass only where an operation allows them (LOOKUP).
public struct FileName: @unchecked Sendable, CustomStringConvertible {
    public let cString: CString

    public static let maxLength = 255

    /// Validates `cString` as a component; "." and ".." only if `allowDots`.
    public init?(_ cString: CString, allowDots: Bool = false) {
        let n = cString.count
        guard n > 0, n <= Self.maxLength else { return nil }
        let bytes = cString.bytesWithNUL
        for i in 0..<n where bytes[i] == 0x2F /* '/' */ || bytes[i] == 0 { return nil }
        if !allowDots && FileName.isDots(bytes, n) { return nil }
        self.cString = cString
    }

    @inlinable public var pointer: UnsafePointer<CChar> { cString.pointer }
    public var isDot: Bool { cString.count == 1 && cString.bytesWithNUL[0] == 0x2E }
    public var isDotDot: Bool { cString.count == 2 && cString.bytesWithNUL[0] == 0x2E && cString.bytesWithNUL[1] == 0x2E }
    public var description: String { cString.description }

    private static func isDots(_ b: UnsafeBufferPointer<CChar>, _ n: Int) -> Bool {
        (n == 1 && b[0] == 0x2E) || (n == 2 && b[0] == 0x2E && b[1] == 0x2E)
    }
}
