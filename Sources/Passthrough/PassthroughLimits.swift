/// Bounds on what a guest can make the daemon keep (issue 6): each is
/// answered with an errno, never with unbounded memory. Generous for real
/// use; not command-line options (virtiofsd has no such bounds), so tests
/// lower them here. Open files and directories are also bounded by the
/// descriptors the daemon may open (`PassthroughOptions.openHandleLimit`).
public struct PassthroughLimits: Sendable {
    /// Nodes the guest holds lookups of (a few hundred bytes each, plus a
    /// descriptor or a file handle): beyond, LOOKUP, CREATE, MKDIR, MKNOD,
    /// SYMLINK, LINK and READDIRPLUS answer ENFILE (the guest forgets nodes to go on).
    public var nodes = 1 << 20
    /// Open directories (each with a 32 KiB getdents buffer once read): beyond, OPENDIR answers EMFILE.
    public var openDirectories = 4096
    /// POSIX lock records (ranges) of one lock owner, and of all owners
    /// together: a SETLK/SETLKW that would keep more answers ENOLCK, as a
    /// kernel out of lock records does.
    public var lockRecordsPerOwner = 1024
    public var lockRecords = 65536
    /// SETLKW requests waiting at once (each also holds a thread): beyond, ENOLCK.
    public var waitingLocks = 1024

    public init() {}
}
