import FuseServer
import Glibc
import SwiftFSProtocol
import Synchronization

/// Open handles (fh → object) for files or directories. One mutex, held only
/// for the dictionary; the objects close their descriptors when the last
/// reference goes, so RELEASE during a READ in flight is safe. Each handle
/// holds a real descriptor, so the table is bounded: beyond `limit` the guest
/// gets EMFILE, and the descriptors the daemon itself needs stay available.
final class HandleTable<Handle: AnyObject & Sendable>: Sendable {
    private struct State {
        var handles: [FileHandle: Handle] = [:]
        var next: UInt64 = 1
    }
    private let state = Mutex(State())
    let limit: Int

    init(limit: Int = .max) { self.limit = limit }

    /// EMFILE when `limit` handles are open (`handle` is then released).
    func insert(_ handle: Handle) throws(Errno) -> FileHandle {
        let id: FileHandle? = state.withLock { state in
            guard state.handles.count < limit else { return nil }
            let id = FileHandle(state.next)
            state.next += 1
            state.handles[id] = handle
            return id
        }
        guard let id else { throw Errno(EMFILE) }
        return id
    }

    /// EBADF for handles never opened or already released.
    func get(_ handle: FileHandle) throws(Errno) -> Handle {
        guard let value = state.withLock({ $0.handles[handle] }) else { throw Errno.EBADF }
        return value
    }

    func remove(_ handle: FileHandle) throws(Errno) -> Handle {
        guard let value = state.withLock({ $0.handles.removeValue(forKey: handle) }) else { throw Errno.EBADF }
        return value
    }

    func removeAll() {
        let old = state.withLock { state -> [FileHandle: Handle] in
            let old = state.handles
            state.handles = [:]
            return old
        }
        _ = old
    }

    var count: Int { state.withLock { $0.handles.count } }
}
