// Deterministic file contents that the host can recompute to verify what the
// guest wrote through virtio-fs.

enum TestPattern {
    /// Byte i of selftest/pattern.bin: (i * 251 + (i >> 12)) mod 256.
    /// Python: bytes(((i * 251 + (i >> 12)) & 0xff) for i in range(1 << 20))
    static func patternByte(_ index: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: index &* 251 &+ (index >> 12))
    }

    static func pattern(from start: Int, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        for i in 0..<count { bytes[i] = patternByte(start + i) }
        return bytes
    }

    /// Contents of file number `index` in dirtree: its name repeated to `size` bytes.
    static func dirtreeContents(index: Int, size: Int) -> [UInt8] {
        let stamp = Array("file \(index);".utf8)
        var bytes = [UInt8](repeating: 0, count: size)
        for i in 0..<size { bytes[i] = stamp[i % stamp.count] }
        return bytes
    }

    static let helloText = "Hello from the swiftfs unikernel\n"
}
