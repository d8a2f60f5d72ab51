import Logging
import ScatterGather
import SwiftFSProtocol
import Synchronization

/// The FUSE protocol server: decodes a request, checks it, calls the
/// FileSystem, encodes the reply straight into the transport's buffers. It
/// knows nothing about the host directory, and nothing about transports.
///
/// Request checks (each failure is an error reply; the server keeps serving):
/// - a header shorter than fuse_in_header: EIO with unique 0 (the request
///   cannot be named; a virtqueue chain still completes);
/// - `len` below the header size or above the bytes the transport holds:
///   EINVAL. Bytes beyond `len` are ignored (a virtqueue buffer may be
///   larger than the request), and never read;
/// - unknown or unsupported opcodes: ENOSYS; anything but INIT before INIT: EIO;
/// - a truncated argument record, a name without NUL, empty, with '/', too
///   long, or "."/".." where not allowed: EINVAL (ENAMETOOLONG for length).
/// FORGET, BATCH_FORGET and INTERRUPT get no reply (return 0).
public final class FuseServer<FS: FileSystem>: FuseRequestHandler {
    public let fileSystem: FS
    public let options: FuseServerOptions
    let logger: Logger
    /// INIT has been answered; until then only INIT is served.
    let initialized = Atomic<Bool>(false)

    public init(fileSystem: FS, options: FuseServerOptions = FuseServerOptions(),
                logger: Logger = Logger(label: "swiftfs.fuse")) {
        self.fileSystem = fileSystem
        self.options = options
        self.logger = logger
    }

    /// SETLKW waits for another lock holder, possibly for long.
    public func readHead(_ request: ScatterReader) -> FuseRequestHead {
        var view = request
        let header = view.read(FuseInHeader.self)
        return FuseRequestHead(header: header, mayBlock: header?.opcode == FuseOpcode.setlkw.rawValue)
    }

    public func interruptBlockedRequests() {
        fileSystem.interruptAll()
    }

    public func deviceReset() {
        initialized.store(false, ordering: .releasing)
        fileSystem.deviceReset()
    }

    public func handle(head: FuseRequestHead, request: inout ScatterReader, reply: inout ScatterWriter) -> Int {
        let headerPosition = reply.written
        // The header is the head's copy; the request's own header bytes are skipped, never read again.
        guard let header = head.header, request.skip(FuseInHeader.wireSize) else {
            return finishWithError(.EIO, unique: 0, reply: &reply, at: headerPosition)
        }
        let argumentBytes = Int(header.len) - FuseInHeader.wireSize
        guard argumentBytes >= 0, argumentBytes <= request.remaining else {
            return finishWithError(.EINVAL, unique: header.unique, reply: &reply, at: headerPosition)
        }
        request.limit(to: argumentBytes)

        guard let opcode = FuseOpcode(rawValue: header.opcode) else {
            return finishWithError(.ENOSYS, unique: header.unique, reply: &reply, at: headerPosition)
        }
        switch opcode {
        case .forget:
            if let forget = request.read(FuseForgetIn.self) {
                fileSystem.forget(node: NodeID(header.nodeID), count: forget.nlookup)
            }
            return 0
        case .batchForget:
            batchForget(&request)
            return 0
        case .interrupt:
            if let interrupt = request.read(FuseInterruptIn.self) { fileSystem.interrupt(unique: interrupt.unique) }
            return 0
        case .notifyReply:
            return 0 // we never ask the kernel for data, so there is nothing to match it with
        default:
            break
        }
        if opcode != .`init` && !initialized.load(ordering: .acquiring) {
            return finishWithError(.EIO, unique: header.unique, reply: &reply, at: headerPosition)
        }
        if options.readOnly && ReadOnlyPolicy.modifies(opcode) {
            return finishWithError(.EROFS, unique: header.unique, reply: &reply, at: headerPosition)
        }

        guard reply.write(FuseOutHeader()) else { return 0 } // no room even for a header: drop
        let bodyStart = reply
        let context = RequestContext(uid: header.uid, gid: header.gid, pid: header.pid, unique: header.unique)
        do throws(Errno) {
            try dispatch(opcode, header: header, context: context, request: &request, reply: &reply)
        } catch {
            reply = bodyStart
            return finishWithError(error, unique: header.unique, reply: &reply, at: headerPosition, headerWritten: true)
        }
        var out = FuseOutHeader()
        out.unique = header.unique
        out.len = UInt32(reply.written - headerPosition)
        reply.patch(out, at: headerPosition)
        return reply.written - headerPosition
    }

    /// Writes (or completes) an error reply: the header alone.
    private func finishWithError(_ error: Errno, unique: UInt64, reply: inout ScatterWriter, at position: Int,
                                 headerWritten: Bool = false) -> Int {
        var out = FuseOutHeader()
        out.len = UInt32(FuseOutHeader.wireSize)
        out.error = -error.rawValue
        out.unique = unique
        if headerWritten {
            reply.patch(out, at: position)
        } else if !reply.write(out) {
            return 0
        }
        return FuseOutHeader.wireSize
    }

    private func batchForget(_ request: inout ScatterReader) {
        guard let batch = request.read(FuseBatchForgetIn.self) else { return }
        for _ in 0..<batch.count {
            guard let one = request.read(FuseForgetOne.self) else { return } // truncated: forget what arrived
            fileSystem.forget(node: NodeID(one.nodeID), count: one.nlookup)
        }
    }

    private func dispatch(_ opcode: FuseOpcode, header: FuseInHeader, context: RequestContext,
                          request: inout ScatterReader, reply: inout ScatterWriter) throws(Errno) {
        let node = NodeID(header.nodeID)
        switch opcode {
        case .`init`: try initialize(request: &request, reply: &reply)
        case .destroy: destroy()
        case .lookup: try lookup(context, node, &request, &reply)
        case .getattr: try getattr(context, node, &request, &reply)
        case .setattr: try setattr(context, node, &request, &reply)
        case .readlink: try readlink(context, node, &reply)
        case .symlink: try symlink(context, node, &request, &reply)
        case .mknod: try mknod(context, node, &request, &reply)
        case .mkdir: try mkdir(context, node, &request, &reply)
        case .unlink: try unlink(context, node, &request)
        case .rmdir: try rmdir(context, node, &request)
        case .rename: try rename(context, node, &request, hasFlags: false)
        case .rename2: try rename(context, node, &request, hasFlags: true)
        case .link: try link(context, node, &request, &reply)
        case .open: try open(context, node, &request, &reply)
        case .create: try create(context, node, &request, &reply)
        case .read: try read(context, node, &request, &reply)
        case .write: try write(context, node, &request, &reply)
        case .flush: try flush(context, node, &request)
        case .release: try release(context, node, &request)
        case .fsync: try fsync(context, node, &request, directory: false)
        case .opendir: try opendir(context, node, &request, &reply)
        case .readdir: try readdir(context, node, &request, &reply, plus: false)
        case .readdirplus: try readdir(context, node, &request, &reply, plus: true)
        case .releasedir: try releasedir(context, node, &request)
        case .fsyncdir: try fsync(context, node, &request, directory: true)
        case .statfs: try statfs(context, node, &reply)
        case .access: try access(context, node, &request)
        case .setxattr: try setxattr(context, node, &request)
        case .getxattr: try getxattr(context, node, &request, &reply)
        case .listxattr: try listxattr(context, node, &request, &reply)
        case .removexattr: try removexattr(context, node, &request)
        case .fallocate: try fallocate(context, node, &request)
        case .lseek: try lseek(context, node, &request, &reply)
        case .copyFileRange: try copyFileRange(context, node, &request, &reply)
        case .syncfs: try fileSystem.syncfs(context, node: node)
        case .setupMapping: try setupMapping(context, node, &request)
        case .removeMapping: try removeMapping(context, node, &request)
        case .getlk: try getlk(context, node, &request, &reply)
        case .setlk: try setlk(context, node, &request, wait: false)
        case .setlkw: try setlk(context, node, &request, wait: true)
        case .forget, .batchForget, .interrupt, .notifyReply:
            break // answered in handle(request:reply:)
        case .bmap, .ioctl, .poll, .tmpfile:
            throw Errno.ENOSYS
        }
    }
}
