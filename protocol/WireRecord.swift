// Wire records: fixed-size structs whose Swift layout is the C layout of the
// kernel ABI (all fields naturally aligned, declared in ABI order; tests check
// sizes and offsets against the C headers). They are read and written with
// unaligned loads and stores through bounds-checked cursors, never by casting
// pointers into guest memory.
//
// This file compiles in the host package and in the Embedded Swift guest: no
// imports, no existentials, typed throws only.

/// A plain-old-data wire struct with an all-zero default value.
public protocol WireRecord: BitwiseCopyable, Sendable {
    init()
}

extension WireRecord {
    /// Size of the record on the wire.
    @inlinable public static var wireSize: Int { MemoryLayout<Self>.size }
}

/// Reads records from one contiguous byte range; every read is bounds-checked
/// and a short read returns nil instead of trapping.
public struct ByteReader {
    public let bytes: UnsafeRawBufferPointer
    @usableFromInline internal var _offset: Int = 0
    public var offset: Int { _offset }

    @inlinable public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    @inlinable public var remaining: Int { bytes.count - _offset }

    @inlinable public mutating func read<T: WireRecord>(_: T.Type = T.self) -> T? {
        guard remaining >= T.wireSize else { return nil }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        _offset += T.wireSize
        return value
    }

    /// The next `count` bytes, or nil if fewer remain.
    @inlinable public mutating func readBytes(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, remaining >= count else { return nil }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
        _offset += count
        return slice
    }

    @inlinable public mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, remaining >= count else { return false }
        _offset += count
        return true
    }

    /// A record at an absolute offset, cursor untouched (a field of a fixed-layout header), or nil if out of range.
    @inlinable public func read<T: WireRecord>(_: T.Type = T.self, at position: Int) -> T? {
        guard position >= 0, position <= bytes.count - T.wireSize else { return nil }
        return bytes.loadUnaligned(fromByteOffset: position, as: T.self)
    }
}

/// Writes records into one contiguous byte range; a write that does not fit
/// returns false and leaves the buffer unchanged.
public struct ByteWriter {
    public let bytes: UnsafeMutableRawBufferPointer
    @usableFromInline internal var _offset: Int = 0
    public var offset: Int { _offset }

    @inlinable public init(_ bytes: UnsafeMutableRawBufferPointer) { self.bytes = bytes }

    @inlinable public var remaining: Int { bytes.count - _offset }

    @discardableResult
    @inlinable public mutating func write<T: WireRecord>(_ value: T) -> Bool {
        guard remaining >= T.wireSize else { return false }
        bytes.storeBytes(of: value, toByteOffset: offset, as: T.self)
        _offset += T.wireSize
        return true
    }

    @discardableResult
    @inlinable public mutating func writeBytes(_ source: UnsafeRawBufferPointer) -> Bool {
        guard remaining >= source.count else { return false }
        if let base = source.baseAddress, source.count > 0 {
            (bytes.baseAddress! + offset).copyMemory(from: base, byteCount: source.count)
        }
        _offset += source.count
        return true
    }

    /// Appends `count` zero bytes (record padding).
    @discardableResult
    @inlinable public mutating func writeZeros(_ count: Int) -> Bool {
        guard count >= 0, remaining >= count else { return false }
        if count > 0 { (bytes.baseAddress! + offset).initializeMemory(as: UInt8.self, repeating: 0, count: count) }
        _offset += count
        return true
    }

    /// Overwrites a record at an absolute offset (e.g. a header whose length is known last).
    @discardableResult
    @inlinable public func patch<T: WireRecord>(_ value: T, at position: Int) -> Bool {
        guard position >= 0, position + T.wireSize <= bytes.count else { return false }
        bytes.storeBytes(of: value, toByteOffset: position, as: T.self)
        return true
    }
}
