// Array and String forms of read/write for applications written in Swift.

extension Posix {
    /// Reads up to `buffer.count` bytes; returns how many.
    static func read(_ descriptor: Int32, into buffer: inout [UInt8]) throws(Errno) -> Int {
        try withMutableBytes(of: &buffer) { (bytes) throws(Errno) -> Int in try read(descriptor, into: bytes) }
    }

    static func pread(_ descriptor: Int32, into buffer: inout [UInt8], at offset: Int) throws(Errno) -> Int {
        try withMutableBytes(of: &buffer) { (bytes) throws(Errno) -> Int in try pread(descriptor, into: bytes, at: offset) }
    }

    static func write(_ descriptor: Int32, _ bytes: [UInt8]) throws(Errno) -> Int {
        try withBytes(of: bytes) { (raw) throws(Errno) -> Int in try write(descriptor, raw) }
    }

    static func pwrite(_ descriptor: Int32, _ bytes: [UInt8], at offset: Int) throws(Errno) -> Int {
        try withBytes(of: bytes) { (raw) throws(Errno) -> Int in try pwrite(descriptor, raw, at: offset) }
    }

    static func write(_ descriptor: Int32, _ text: String) throws(Errno) -> Int {
        try write(descriptor, Array(text.utf8))
    }

    /// Writes all of `bytes`, looping over short writes.
    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws(Errno) {
        var done = 0
        while done < bytes.count {
            let count = try write(descriptor, UnsafeRawBufferPointer(rebasing: bytes[done...]))
            if count == 0 { throw .EIO }
            done += count
        }
    }

    /// Reads the whole file at `path`.
    static func readFile(_ path: String) throws(Errno) -> [UInt8] {
        let descriptor = try open(path, .readOnly)
        defer { try? close(descriptor) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = try read(descriptor, into: &chunk)
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
        }
        return result
    }

    /// Creates or replaces the file at `path` with `bytes`.
    static func writeFile(_ path: String, _ bytes: [UInt8]) throws(Errno) {
        let descriptor = try open(path, [.writeOnly, .create, .truncate])
        var failure: Errno? = nil
        do {
            try withBytes(of: bytes) { (raw) throws(Errno) in try writeAll(descriptor, raw) }
        } catch {
            failure = error
        }
        do { try close(descriptor) } catch { if failure == nil { failure = error } }
        if let failure = failure { throw failure }
    }
}
