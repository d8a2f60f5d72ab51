/// Limits and policies of a FuseServer, fixed at construction.
public struct FuseServerOptions: Sendable {
    /// Largest WRITE payload (fuse_init_out.max_write); also the READ size the
    /// server accepts. The kernel needs MAX_PAGES for anything above 128 KiB.
    public var maxWrite: Int = 1 << 20
    /// Upper bound for fuse_init_out.max_readahead (the kernel's offer may be lower).
    public var maxReadahead: Int = 1 << 20
    /// fuse_init_out.max_background / congestion_threshold: asynchronous requests in flight.
    public var maxBackground: UInt16 = 64
    public var congestionThreshold: UInt16 = 48
    /// Refuse every modifying request with EROFS (checked in one place, ReadOnlyPolicy).
    public var readOnly = false

    public init() {}

    /// Bytes a transport's request buffer needs for the largest request
    /// (a WRITE of maxWrite bytes plus its headers).
    public var requestBufferSize: Int { maxWrite + 4096 }
    /// Bytes a reply buffer needs for the largest reply (a READ of maxWrite bytes).
    public var replyBufferSize: Int { maxWrite + 4096 }
}
