@testable import FuseServer
import Glibc
@testable import Passthrough
import ScatterGather
import SwiftFSProtocol

/// A PassthroughFileSystem over a fresh temp directory, with helpers that
/// make names and buffers the way the server would.
final class PassthroughFixture: @unchecked Sendable {
    let directory: String
    let fs: PassthroughFileSystem
    let root = RequestContext(uid: 0, gid: 0, pid: 1, unique: 1)

    init(cache: CachePolicy = .auto, lockWaitLimit: Duration = .seconds(5),
         configure: (inout PassthroughOptions) -> Void = { _ in }) throws {
        var template = Array("/tmp/swiftfs-pt.XXXXXX".utf8CString)
        guard let path = mkdtemp(&template) else { throw Errno.current }
        directory = String(cString: path)
        var options = PassthroughOptions(sharedDir: directory)
        options.cache = cache
        options.lockWaitLimit = lockWaitLimit
        configure(&options)
        fs = try PassthroughFileSystem(options: options)
    }

    deinit { _ = system("rm -rf '\(directory)'") }

    func context(uid: UInt32 = 0, gid: UInt32 = 0, pid: UInt32 = 1, unique: UInt64 = 1) -> RequestContext {
        RequestContext(uid: uid, gid: gid, pid: pid, unique: unique)
    }

    /// Calls `body` with `name` as the server would pass it.
    func named<R>(_ name: String, allowDots: Bool = true, _ body: (FileName) throws -> R) throws -> R {
        var bytes = Array(name.utf8CString)
        return try bytes.withUnsafeMutableBufferPointer { (buffer) throws -> R in
            guard let fileName = FileName(CString(bytesWithNUL: UnsafeBufferPointer(buffer)), allowDots: allowDots) else {
                throw Errno.EINVAL
            }
            return try body(fileName)
        }
    }

    func lookup(_ name: String, in parent: NodeID = .root) throws -> Entry {
        try named(name) { (n) throws in try fs.lookup(root, parent: parent, name: n) }
    }

    func create(_ name: String, in parent: NodeID = .root, context: RequestContext? = nil) throws -> (Entry, FileHandle) {
        let (entry, opened) = try named(name) { (n) throws in
            try fs.create(context ?? root, parent: parent, name: n, mode: 0o644, umask: 0, flags: OpenFlags(LinuxOpenFlags.readWrite))
        }
        return (entry, opened.handle)
    }

    func mkdir(_ name: String, in parent: NodeID = .root) throws -> Entry {
        try named(name) { (n) throws in try fs.mkdir(root, parent: parent, name: n, mode: 0o755, umask: 0) }
    }

    func write(_ node: NodeID, _ handle: FileHandle, _ bytes: [UInt8], at offset: UInt64 = 0) throws -> Int {
        var bytes = bytes
        return try bytes.withUnsafeMutableBytes { (raw) throws -> Int in
            var vector = iovec(iov_base: raw.baseAddress, iov_len: raw.count)
            return try withUnsafePointer(to: &vector) { (segment) throws -> Int in
                let source = WriteSource(reader: ScatterReader(segments: UnsafeBufferPointer(start: segment, count: 1)), count: raw.count)
                return try fs.write(root, node: node, handle: handle, offset: offset, from: source, flags: 0)
            }
        }
    }

    func read(_ node: NodeID, _ handle: FileHandle, size: Int, at offset: UInt64 = 0) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: size)
        let filled = try buffer.withUnsafeMutableBytes { (raw) throws -> Int in
            var vector = iovec(iov_base: raw.baseAddress, iov_len: raw.count)
            return try withUnsafePointer(to: &vector) { (segment) throws -> Int in
                var destination = ReadDestination(writer: ScatterWriter(segments: UnsafeBufferPointer(start: segment, count: 1)), capacity: size)
                try fs.read(root, node: node, handle: handle, offset: offset, into: &destination)
                return destination.filled
            }
        }
        return Array(buffer[0..<filled])
    }

    /// One READDIR(PLUS) request of at most `size` bytes: (name, next offset, node) per entry.
    func readdir(_ node: NodeID, _ handle: FileHandle, offset: UInt64, size: Int, plus: Bool = false) throws -> [(String, UInt64, UInt64)] {
        var buffer = [UInt8](repeating: 0, count: size)
        let used = try buffer.withUnsafeMutableBytes { (raw) throws -> Int in
            var vector = iovec(iov_base: raw.baseAddress, iov_len: raw.count)
            return try withUnsafePointer(to: &vector) { (segment) throws -> Int in
                var sink = DirectoryEntrySink(writer: ScatterWriter(segments: UnsafeBufferPointer(start: segment, count: 1)),
                                              limit: size, isPlus: plus)
                if plus {
                    try fs.readdirplus(root, node: node, handle: handle, offset: offset, into: &sink)
                } else {
                    try fs.readdir(root, node: node, handle: handle, offset: offset, into: &sink)
                }
                return size - sink.remaining
            }
        }
        var result: [(String, UInt64, UInt64)] = []
        var position = 0
        let prefix = plus ? FuseEntryOut.wireSize : 0
        while position < used {
            let entry = plus ? buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: FuseEntryOut.self) } : FuseEntryOut()
            let dirent = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position + prefix, as: FuseDirent.self) }
            let start = position + prefix + FuseDirent.wireSize
            result.append((String(decoding: buffer[start..<start + Int(dirent.namelen)], as: UTF8.self), dirent.off, entry.nodeID))
            position += FuseProtocol.recordAlign(prefix + FuseDirent.wireSize + Int(dirent.namelen))
        }
        return result
    }

    /// Calls `body` with `text` as a CString, as the server passes xattr names.
    func cString<R>(_ text: String, _ body: (CString) throws -> R) rethrows -> R {
        var bytes = Array(text.utf8CString)
        return try bytes.withUnsafeMutableBufferPointer { try body(CString(bytesWithNUL: UnsafeBufferPointer($0))) }
    }

    func setxattr(_ node: NodeID, _ name: String, _ value: [UInt8], context: RequestContext? = nil) throws {
        try cString(name) { (n) throws in
            try value.withUnsafeBytes { (raw) throws in try fs.setxattr(context ?? root, node: node, name: n, value: raw, flags: 0) }
        }
    }

    func getxattr(_ node: NodeID, _ name: String) throws -> [UInt8] {
        try cString(name) { (n) throws -> [UInt8] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            let size = try buffer.withUnsafeMutableBytes { (raw) throws -> Int in try fs.getxattr(root, node: node, name: n, into: raw) }
            return Array(buffer[0..<size])
        }
    }

    func removexattr(_ node: NodeID, _ name: String, context: RequestContext? = nil) throws {
        try cString(name) { (n) throws in try fs.removexattr(context ?? root, node: node, name: n) }
    }

    /// LISTXATTR's names, and the size a size query reports.
    func listxattr(_ node: NodeID) throws -> (names: [String], sizeQuery: Int) {
        let needed = try fs.listxattr(root, node: node, into: nil)
        var buffer = [UInt8](repeating: 0, count: 65536)
        let size = try buffer.withUnsafeMutableBytes { (raw) throws -> Int in try fs.listxattr(root, node: node, into: raw) }
        let names = buffer[0..<size].split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return (names, needed)
    }

    func hostPath(_ name: String) -> String { directory + "/" + name }

    func writeHostFile(_ name: String, _ text: String) {
        let fd = open(hostPath(name), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0)
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
    }
}
