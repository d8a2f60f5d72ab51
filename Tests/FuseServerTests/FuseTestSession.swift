import FuseServer
import Glibc
import Passthrough
import ScatterGather
import SwiftFSProtocol

/// A FUSE request as the kernel would send it, built byte by byte.
struct RequestBytes {
    var bytes: [UInt8] = []

    mutating func append<T: WireRecord>(_ record: T) {
        withUnsafeBytes(of: record) { bytes.append(contentsOf: $0) }
    }
    /// A name with its terminating NUL.
    mutating func append(name: String) {
        bytes.append(contentsOf: Array(name.utf8))
        bytes.append(0)
    }
    mutating func append(raw: [UInt8]) { bytes.append(contentsOf: raw) }
}

/// A decoded reply: the header and the body bytes.
struct Reply {
    var length: Int
    var header: FuseOutHeader
    var body: [UInt8]

    var error: Int32 { -header.error }
    var ok: Bool { header.error == 0 }

    func record<T: WireRecord>(_: T.Type = T.self, at offset: Int = 0) -> T? {
        guard offset + T.wireSize <= body.count else { return nil }
        return body.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }
}

/// A share in a fresh temp directory with a FuseServer over it, fed with
/// crafted requests in-process (no kernel involved).
final class FuseTestSession {
    let directory: String
    let server: FuseServer<PassthroughFileSystem>
    /// The DAX window (a real shared file in /dev/shm) when the session has one.
    let window: DaxWindowFile?
    private var unique: UInt64 = 0
    private let replyBuffer: UnsafeMutableRawBufferPointer

    init(readOnly: Bool = false, xattr: Bool = true, cache: CachePolicy = .auto, initialize: Bool = true,
         daxWindowSize: UInt64? = nil, killprivV2: Bool = false) throws {
        var template = Array("/tmp/swiftfs-test.XXXXXX".utf8CString)
        guard let path = mkdtemp(&template) else { throw Errno.current }
        directory = String(cString: path)
        var options = PassthroughOptions(sharedDir: directory)
        if let daxWindowSize {
            var windowTemplate = Array("/dev/shm/swiftfs-test-dax.XXXXXX".utf8CString)
            let fd = mkstemp(&windowTemplate)
            let windowPath = windowTemplate.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            guard fd >= 0, ftruncate(fd, off_t(daxWindowSize)) == 0 else { throw Errno.current }
            close(fd)
            let window = try DaxWindowFile(path: windowPath, size: daxWindowSize)
            unlink(windowPath) // the mapping keeps the memory; nothing is left behind
            self.window = window
            options.dax = DaxMapperSlot(window)
        } else {
            window = nil
        }
        options.readOnly = readOnly
        options.xattr = xattr
        options.cache = cache
        options.killprivV2 = killprivV2
        options.lockWaitLimit = .seconds(2)
        server = try makePassthroughServer(options: options)
        replyBuffer = .allocate(byteCount: server.options.replyBufferSize, alignment: 4096)
        if initialize {
            let reply = sendInit()
            precondition(reply.ok, "INIT failed: \(reply.error)")
        }
    }

    deinit {
        replyBuffer.deallocate()
        _ = system("rm -rf '\(directory)'")
    }

    /// A request with a correct header; `len` and segment sizes may be overridden to test checks.
    func send(_ opcode: UInt32, node: UInt64 = 1, body: RequestBytes = RequestBytes(), uid: UInt32 = 0, gid: UInt32 = 0,
              lengthOverride: UInt32? = nil, segmentSize: Int? = nil, replyCapacity: Int? = nil) -> Reply? {
        unique += 1
        var header = FuseInHeader()
        header.len = lengthOverride ?? UInt32(FuseInHeader.wireSize + body.bytes.count)
        header.opcode = opcode
        header.unique = unique
        header.nodeID = node
        header.uid = uid
        header.gid = gid
        header.pid = 4242
        var request = RequestBytes()
        request.append(header)
        request.append(raw: body.bytes)
        return sendRaw(request.bytes, segmentSize: segmentSize, replyCapacity: replyCapacity)
    }

    func send(_ opcode: FuseOpcode, node: UInt64 = 1, body: RequestBytes = RequestBytes(), uid: UInt32 = 0, gid: UInt32 = 0,
              segmentSize: Int? = nil) -> Reply? {
        send(opcode.rawValue, node: node, body: body, uid: uid, gid: gid, segmentSize: segmentSize)
    }

    /// Feeds raw bytes (split into segments of `segmentSize` to exercise
    /// gathering) and decodes the reply; nil when the server sent none.
    func sendRaw(_ bytes: [UInt8], segmentSize: Int? = nil, replyCapacity: Int? = nil) -> Reply? {
        Self.exchange(server: server, bytes, replyBuffer: replyBuffer, segmentSize: segmentSize, replyCapacity: replyCapacity)
    }

    /// One request/reply round trip through `server`, with the caller's reply buffer (thread-safe).
    static func exchange(server: FuseServer<PassthroughFileSystem>, _ bytes: [UInt8], replyBuffer: UnsafeMutableRawBufferPointer,
                         segmentSize: Int? = nil, replyCapacity: Int? = nil) -> Reply? {
        var bytes = bytes
        let written: Int = bytes.withUnsafeMutableBytes { raw in
            var iovecs: [iovec] = []
            let step = max(1, segmentSize ?? max(raw.count, 1))
            var offset = 0
            while offset < raw.count {
                let n = min(step, raw.count - offset)
                iovecs.append(iovec(iov_base: raw.baseAddress! + offset, iov_len: n))
                offset += n
            }
            var replyVec = iovec(iov_base: replyBuffer.baseAddress, iov_len: replyCapacity ?? replyBuffer.count)
            return iovecs.withUnsafeBufferPointer { requestSegments in
                withUnsafePointer(to: &replyVec) { replySegment in
                    var reader = ScatterReader(segments: requestSegments)
                    var writer = ScatterWriter(segments: UnsafeBufferPointer(start: replySegment, count: 1))
                    return server.handle(request: &reader, reply: &writer)
                }
            }
        }
        guard written > 0 else { return nil }
        precondition(written >= FuseOutHeader.wireSize)
        let header = replyBuffer.loadUnaligned(as: FuseOutHeader.self)
        precondition(Int(header.len) == written, "header len \(header.len) != returned \(written)")
        let body = Array(UnsafeRawBufferPointer(rebasing: replyBuffer[FuseOutHeader.wireSize..<written]))
        return Reply(length: written, header: header, body: body)
    }

    @discardableResult
    func sendInit(major: UInt32 = 7, minor: UInt32 = 38, flags: FuseInitFlags = FuseTestSession.linuxOffer) -> Reply {
        var initIn = FuseInitIn()
        initIn.major = major
        initIn.minor = minor
        initIn.maxReadahead = 128 * 1024
        initIn.flags = UInt32(truncatingIfNeeded: flags.rawValue)
        initIn.flags2 = UInt32(truncatingIfNeeded: flags.rawValue >> 32)
        var body = RequestBytes()
        body.append(initIn)
        return send(.`init`, body: body)!
    }

    /// Roughly what Linux 6.1 offers.
    static let linuxOffer: FuseInitFlags = [
        .asyncRead, .posixLocks, .atomicOTrunc, .exportSupport, .bigWrites, .dontMask, .spliceWrite, .spliceMove,
        .spliceRead, .flockLocks, .hasIoctlDir, .autoInvalData, .doReaddirplus, .readdirplusAuto, .asyncDIO,
        .writebackCache, .noOpenSupport, .parallelDirops, .handleKillpriv, .posixACL, .abortError, .maxPages,
        .cacheSymlinks, .noOpendirSupport, .explicitInvalData, .mapAlignment, .submounts, .handleKillprivV2,
        .setxattrExt, .initExt, .securityContext, .hasInodeDAX,
    ]

    // MARK: Typed helpers for the happy path

    func lookup(_ name: String, in parent: UInt64 = 1) -> Reply {
        var body = RequestBytes()
        body.append(name: name)
        return send(.lookup, node: parent, body: body)!
    }

    func mkdir(_ name: String, in parent: UInt64 = 1, mode: UInt32 = 0o755, uid: UInt32 = 0) -> Reply {
        var body = RequestBytes()
        var mkdirIn = FuseMkdirIn()
        mkdirIn.mode = LinuxFileMode.directory | mode
        body.append(mkdirIn)
        body.append(name: name)
        return send(.mkdir, node: parent, body: body, uid: uid, gid: uid)!
    }

    /// CREATE: the entry and the open handle.
    func create(_ name: String, in parent: UInt64 = 1, mode: UInt32 = 0o644, flags: UInt32 = LinuxOpenFlags.readWrite,
                uid: UInt32 = 0, gid: UInt32 = 0) -> (Reply, FuseEntryOut?, UInt64?) {
        var body = RequestBytes()
        var createIn = FuseCreateIn()
        createIn.flags = flags | LinuxOpenFlags.create
        createIn.mode = LinuxFileMode.regular | mode
        body.append(createIn)
        body.append(name: name)
        let reply = send(.create, node: parent, body: body, uid: uid, gid: gid)!
        let entry = reply.record(FuseEntryOut.self)
        let open = reply.record(FuseOpenOut.self, at: FuseEntryOut.wireSize)
        return (reply, entry, open?.fh)
    }

    func open(_ node: UInt64, flags: UInt32 = LinuxOpenFlags.readWrite) -> Reply {
        var body = RequestBytes()
        var openIn = FuseOpenIn()
        openIn.flags = flags
        body.append(openIn)
        return send(.open, node: node, body: body)!
    }

    func write(_ node: UInt64, fh: UInt64, offset: UInt64, data: [UInt8], segmentSize: Int? = nil) -> Reply {
        var body = RequestBytes()
        var writeIn = FuseWriteIn()
        writeIn.fh = fh
        writeIn.offset = offset
        writeIn.size = UInt32(data.count)
        body.append(writeIn)
        body.append(raw: data)
        return send(.write, node: node, body: body, segmentSize: segmentSize)!
    }

    func read(_ node: UInt64, fh: UInt64, offset: UInt64, size: UInt32, opcode: FuseOpcode = .read) -> Reply {
        var body = RequestBytes()
        var readIn = FuseReadIn()
        readIn.fh = fh
        readIn.offset = offset
        readIn.size = size
        body.append(readIn)
        return send(opcode, node: node, body: body)!
    }

    func release(_ node: UInt64, fh: UInt64, opcode: FuseOpcode = .release) -> Reply {
        var body = RequestBytes()
        var releaseIn = FuseReleaseIn()
        releaseIn.fh = fh
        body.append(releaseIn)
        return send(opcode, node: node, body: body)!
    }

    func getattr(_ node: UInt64) -> Reply {
        var body = RequestBytes()
        body.append(FuseGetattrIn())
        return send(.getattr, node: node, body: body)!
    }

    func forget(_ node: UInt64, count: UInt64) -> Reply? {
        var body = RequestBytes()
        var forgetIn = FuseForgetIn()
        forgetIn.nlookup = count
        body.append(forgetIn)
        return send(.forget, node: node, body: body)
    }

    /// The names in a READDIR reply body.
    static func direntNames(_ body: [UInt8], plus: Bool = false) -> [(name: String, off: UInt64, node: UInt64)] {
        var result: [(String, UInt64, UInt64)] = []
        var offset = 0
        let prefix = plus ? FuseEntryOut.wireSize : 0
        while offset + prefix + FuseDirent.wireSize <= body.count {
            let entry = plus ? body.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: FuseEntryOut.self) } : FuseEntryOut()
            let dirent = body.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + prefix, as: FuseDirent.self) }
            let start = offset + prefix + FuseDirent.wireSize
            let name = String(decoding: body[start..<start + Int(dirent.namelen)], as: UTF8.self)
            result.append((name, dirent.off, entry.nodeID))
            offset += FuseProtocol.recordAlign(prefix + FuseDirent.wireSize + Int(dirent.namelen))
        }
        return result
    }

    func hostPath(_ name: String) -> String { directory + "/" + name }
}
