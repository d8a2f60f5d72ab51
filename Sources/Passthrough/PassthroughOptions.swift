import FuseServer

/// Settings of a PassthroughFileSystem (the daemon's command line).
public struct PassthroughOptions: Sendable {
    /// The host directory the guest sees as its root (`--shared-dir`).
    public var sharedDir: String
    /// `--cache never|metadata|auto|always`.
    public var cache: CachePolicy = .auto
    /// `--xattr`: serve extended attributes; off → ENOSYS, which the kernel remembers.
    public var xattr = true
    /// `--readonly`: refuse every change with EROFS (enforced by the server).
    public var readOnly = false
    /// Offer FUSE_POSIX_LOCKS / FUSE_FLOCK_LOCKS (off: the guest kernel locks locally).
    public var posixLocks = true
    public var flockLocks = true
    /// How long a SETLKW may wait before answering EINTR.
    public var lockWaitLimit: Duration = .seconds(60)
    /// Largest READ/WRITE (the INIT reply's max_write, with MAX_PAGES).
    public var maxWrite = 1 << 20
    /// The DAX window's mapper (`--dax-window`/`--dax-size`); nil: no DAX at all.
    public var dax: DaxMapperSlot?

    public init(sharedDir: String) { self.sharedDir = sharedDir }
}
