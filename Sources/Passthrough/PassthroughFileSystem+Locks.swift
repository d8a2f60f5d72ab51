import FuseServer
import Glibc
import SwiftFSProtocol

/// GETLK/SETLK/SETLKW. POSIX record locks live in PosixLockTable (per node
/// and lock owner, with the holder's pid for GETLK); flock(2) locks are host
/// flock()s on the handle's own descriptor, so two opens conflict as they
/// would on the host. SETLKW waits in LockWaiters (bounded, interruptible).
extension PassthroughFileSystem {
    public func getlk(_ context: RequestContext, node: NodeID, request: FileLock.Request,
                      lock: FileLock) throws(Errno) -> FileLock {
        _ = try inodes.inode(node)
        guard !request.isFlock else { throw Errno.EINVAL }
        guard let held = posixLocks.conflict(node: node, owner: request.owner, lock: lock) else {
            return FileLock(kind: .unlock, start: 0, end: 0, pid: 0)
        }
        return FileLock(kind: held.kind, start: held.start, end: held.end, pid: held.pid)
    }

    public func setlk(_ context: RequestContext, node: NodeID, request: FileLock.Request, lock: FileLock,
                      wait: Bool) throws(Errno) {
        _ = try inodes.inode(node)
        if request.isFlock {
            let file = try files.get(request.handle)
            let operation: Int32
            switch lock.kind {
            case .read: operation = LOCK_SH
            case .write: operation = LOCK_EX
            case .unlock: operation = LOCK_UN
            }
            var failure: Int32 = 0
            try acquire(context, wait: wait) {
                if flock(file.fd, operation | LOCK_NB) == 0 { failure = 0; return true }
                failure = errno
                return failure != EWOULDBLOCK && failure != EINTR // a real error ends the attempts
            }
            if failure != 0 { throw Errno(failure) }
            return
        }
        var failure: Errno?
        try acquire(context, wait: wait) {
            do throws(Errno) {
                return try posixLocks.set(node: node, owner: request.owner, lock: lock) == nil
            } catch {
                failure = error // out of lock records: no point in waiting
                return true
            }
        }
        if let failure { throw failure }
    }

    /// One attempt, or (SETLKW) attempts until success, INTERRUPT or the wait limit.
    private func acquire(_ context: RequestContext, wait: Bool, _ attempt: () -> Bool) throws(Errno) {
        if attempt() { return }
        guard wait else { throw Errno.EAGAIN }
        guard try lockWaiters.wait(unique: context.unique, attempt) else { throw Errno.EINTR }
    }
}
