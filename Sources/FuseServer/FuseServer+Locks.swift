import ScatterGather
import SwiftFSProtocol

/// GETLK, SETLK, SETLKW: POSIX record locks and (with FUSE_LK_FLOCK) flock(2).
extension FuseServer {
    func getlk(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader,
               _ reply: inout ScatterWriter) throws(Errno) {
        let (lockRequest, lock) = try decodeLock(&request)
        let found = try fileSystem.getlk(context, node: node, request: lockRequest, lock: lock)
        var out = FuseLkOut()
        out.lock.type = found.kind.rawValue
        out.lock.start = found.kind == .unlock ? 0 : found.start
        out.lock.end = found.kind == .unlock ? 0 : found.end
        out.lock.pid = found.kind == .unlock ? 0 : found.pid
        try reply.put(out)
    }

    func setlk(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader, wait: Bool) throws(Errno) {
        let (lockRequest, lock) = try decodeLock(&request)
        try fileSystem.setlk(context, node: node, request: lockRequest, lock: lock, wait: wait)
    }

    private func decodeLock(_ request: inout ScatterReader) throws(Errno) -> (FileLock.Request, FileLock) {
        let lkIn = try request.take(FuseLkIn.self)
        guard let kind = FileLock.Kind(rawValue: lkIn.lock.type) else { throw Errno.EINVAL }
        let end = min(lkIn.lock.end, FileLock.toEndOfFile)
        guard lkIn.lock.start <= end || kind == .unlock else { throw Errno.EINVAL }
        let lock = FileLock(kind: kind, start: lkIn.lock.start, end: max(end, lkIn.lock.start), pid: lkIn.lock.pid)
        let lockRequest = FileLock.Request(owner: lkIn.owner, handle: FileHandle(lkIn.fh),
                                           isFlock: lkIn.lkFlags & FuseFlag.lockFlock != 0)
        return (lockRequest, lock)
    }
}
