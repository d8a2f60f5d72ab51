import Glibc
import Synchronization

/// Keeps the pieces of a guest's O_APPEND write in order on the host file.
///
/// A Linux guest granted FUSE_ASYNC_DIO splits a large O_DIRECT write into
/// several WRITEs (virtio-fs: 496 + 496 + 32 KiB per MiB; a host mount: 1 MiB
/// each) and sends them all before waiting, each with its offset counted from
/// the guest's idea of the end of the file. The host file is open with
/// O_APPEND, as in virtiofsd, so that a guest whose size is stale (the host
/// appended) still appends; but O_APPEND ignores those offsets, and pieces
/// served by several threads (`--fuse-mount` workers, `--thread-pool-size`)
/// landed in whatever order the threads ran. So a WRITE that starts beyond
/// the end waits for its predecessor: until the file has grown to its
/// offset, or this handle's last write ended there (the guest's size was
/// stale after the host truncated the file). After `limit` it appends anyway,
/// as it did before, so no request waits for one that never comes.
final class AppendOrder: Sendable {
    /// Where this handle's last write ended, in the guest's offsets.
    private let lastEnd = Mutex<UInt64?>(nil)
    let limit: Duration

    init(limit: Duration) { self.limit = limit }

    /// Returns when a write at `offset` is next, or after `limit`.
    /// `endOfFile` reads the host file's size (nil: unknown, go).
    func waitForTurn(offset: UInt64, endOfFile: () -> UInt64?) {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        var pause: UInt32 = 20 // microseconds
        while true {
            if lastEnd.withLock({ $0 == offset }) { return }
            guard let end = endOfFile(), offset > end else { return }
            if clock.now >= deadline { return }
            // Polled, as LockWaiters does: the predecessor is already being served.
            usleep(pause)
            pause = min(pause * 2, 2000)
        }
    }

    /// A write at `offset` of `length` bytes is on the host file.
    func wrote(offset: UInt64, length: Int) {
        lastEnd.withLock { $0 = offset + UInt64(length) }
    }
}
