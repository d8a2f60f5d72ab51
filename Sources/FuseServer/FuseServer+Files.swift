import ScatterGather
import SwiftFSProtocol

/// Requests on open files: OPEN, CREATE, READ, WRITE, FLUSH, RELEASE, FSYNC(DIR),
/// FALLOCATE, LSEEK, COPY_FILE_RANGE.
extension FuseServer {
    func open(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader,
              _ reply: inout ScatterWriter) throws(Errno) {
        let openIn = try request.take(FuseOpenIn.self)
        let flags = OpenFlags(openIn.flags, killSuidgid: openIn.openFlags & FuseFlag.openKillSuidgid != 0)
        if options.readOnly && ReadOnlyPolicy.opens(forWriting: flags) { throw Errno.EROFS }
        try putOpened(try fileSystem.open(context, node: node, flags: flags), &reply)
    }

    func create(_ context: RequestContext, _ parent: NodeID, _ request: inout ScatterReader,
                _ reply: inout ScatterWriter) throws(Errno) {
        let createIn = try request.take(FuseCreateIn.self)
        let (entry, opened) = try request.withArgumentStrings(limit: ArgumentLimits.names) { (s) throws(Errno) in
            try fileSystem.create(context, parent: parent, name: try s.nextName(), mode: createIn.mode,
                                  umask: createIn.umask,
                                  flags: OpenFlags(createIn.flags, killSuidgid: createIn.openFlags & FuseFlag.openKillSuidgid != 0))
        }
        try reply.put(entry.wire)
        try putOpened(opened, &reply)
    }

    func putOpened(_ opened: OpenedHandle, _ reply: inout ScatterWriter) throws(Errno) {
        var out = FuseOpenOut()
        out.fh = opened.handle.rawValue
        out.openFlags = opened.flags.rawValue
        try reply.put(out)
    }

    func read(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader,
              _ reply: inout ScatterWriter) throws(Errno) {
        let readIn = try request.take(FuseReadIn.self)
        guard readIn.offset <= UInt64(Int64.max) else { throw Errno.EINVAL }
        let size = min(Int(readIn.size), options.maxWrite)
        var destination = ReadDestination(writer: reply, capacity: size)
        try fileSystem.read(context, node: node, handle: FileHandle(readIn.fh), offset: readIn.offset, into: &destination)
        reply = destination.writer
    }

    func write(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader,
               _ reply: inout ScatterWriter) throws(Errno) {
        let writeIn = try request.take(FuseWriteIn.self)
        let size = Int(writeIn.size)
        guard size <= request.remaining, size <= options.maxWrite,
              writeIn.offset <= UInt64(Int64.max) else { throw Errno.EINVAL }
        let source = WriteSource(reader: request, count: size)
        let written = try fileSystem.write(context, node: node, handle: FileHandle(writeIn.fh), offset: writeIn.offset,
                                           from: source, flags: writeIn.writeFlags)
        request.skip(size)
        var out = FuseWriteOut()
        out.size = UInt32(clamping: written)
        try reply.put(out)
    }

    func flush(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader) throws(Errno) {
        let flushIn = try request.take(FuseFlushIn.self)
        try fileSystem.flush(context, node: node, handle: FileHandle(flushIn.fh), lockOwner: flushIn.lockOwner)
    }

    func release(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader) throws(Errno) {
        let releaseIn = try request.take(FuseReleaseIn.self)
        try fileSystem.release(context, node: node, handle: FileHandle(releaseIn.fh), flags: OpenFlags(releaseIn.flags),
                               flockUnlock: releaseIn.releaseFlags & FuseFlag.releaseFlockUnlock != 0,
                               lockOwner: releaseIn.lockOwner)
    }

    func fsync(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader, directory: Bool) throws(Errno) {
        let fsyncIn = try request.take(FuseFsyncIn.self)
        let dataOnly = fsyncIn.fsyncFlags & FuseFlag.fsyncDataOnly != 0
        if directory {
            try fileSystem.fsyncdir(context, node: node, handle: FileHandle(fsyncIn.fh), dataOnly: dataOnly)
        } else {
            try fileSystem.fsync(context, node: node, handle: FileHandle(fsyncIn.fh), dataOnly: dataOnly)
        }
    }

    func fallocate(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader) throws(Errno) {
        let fallocateIn = try request.take(FuseFallocateIn.self)
        guard fallocateIn.offset <= UInt64(Int64.max), fallocateIn.length <= UInt64(Int64.max) else { throw Errno.EINVAL }
        try fileSystem.fallocate(context, node: node, handle: FileHandle(fallocateIn.fh), mode: fallocateIn.mode,
                                 offset: fallocateIn.offset, length: fallocateIn.length)
    }

    func lseek(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader,
               _ reply: inout ScatterWriter) throws(Errno) {
        let lseekIn = try request.take(FuseLseekIn.self)
        guard lseekIn.offset <= UInt64(Int64.max) else { throw Errno.EINVAL }
        var out = FuseLseekOut()
        out.offset = try fileSystem.lseek(context, node: node, handle: FileHandle(lseekIn.fh), offset: lseekIn.offset,
                                          whence: lseekIn.whence)
        try reply.put(out)
    }

    func copyFileRange(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader,
                       _ reply: inout ScatterWriter) throws(Errno) {
        let copyIn = try request.take(FuseCopyFileRangeIn.self)
        guard copyIn.offIn <= UInt64(Int64.max), copyIn.offOut <= UInt64(Int64.max) else { throw Errno.EINVAL }
        // The reply's size is 32 bits: never copy more than it can report.
        let length = min(copyIn.len, UInt64(UInt32.max) & ~4095)
        let copied = try fileSystem.copyFileRange(context, node: node, handle: FileHandle(copyIn.fhIn), offset: copyIn.offIn,
                                                  to: NodeID(copyIn.nodeIDOut), handle: FileHandle(copyIn.fhOut),
                                                  offset: copyIn.offOut, length: length, flags: copyIn.flags)
        var out = FuseWriteOut()
        out.size = UInt32(clamping: copied)
        try reply.put(out)
    }
}
