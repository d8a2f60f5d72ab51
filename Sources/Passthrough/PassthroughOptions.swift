import FuseServer
import Glibc

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
    /// Offer READDIRPLUS (`-o no_readdirplus` turns it off).
    public var readdirplus = true
    /// `-o timeout=`: entry and attribute timeout instead of the cache policy's.
    public var timeout: CacheTimeout?
    /// `--announce-submounts`: flag directories on another host filesystem as
    /// submounts, so the guest gives them their own superblock (inode numbers stay unique).
    public var announceSubmounts = false
    /// `--allow-direct-io`: keep the guest's O_DIRECT (otherwise dropped, as virtiofsd does).
    public var allowDirectIO = false
    /// `--killpriv-v2` / `-o killpriv_v2`: grant FUSE_HANDLE_KILLPRIV_V2, so the
    /// guest leaves clearing suid/sgid on write, truncate and O_TRUNC to us and
    /// skips its security.capability check on most writes (off by default, as in virtiofsd).
    public var killprivV2 = false
    /// `--xattrmap`: which guest xattr names reach the host, and as what.
    public var xattrMap = XattrMap.default
    /// How long a WRITE of an O_APPEND handle that starts beyond the end of the
    /// file waits for the piece before it (AppendOrder) before appending anyway.
    public var appendOrderWait: Duration = .milliseconds(250)
    /// How long a SETLKW may wait before answering EINTR.
    public var lockWaitLimit: Duration = .seconds(60)
    /// Largest READ/WRITE (the INIT reply's max_write, with MAX_PAGES).
    public var maxWrite = 1 << 20
    /// The DAX window's mapper (`--dax-window`/`--dax-size`); nil: no DAX at all.
    public var dax: DaxMapperSlot?

    /// `--inode-file-handles`: identify inodes by kernel file handles (so they
    /// hold no descriptor). Default `prefer` as root (which has the
    /// CAP_DAC_READ_SEARCH open_by_handle_at needs), `never` otherwise.
    public var inodeFileHandles: InodeFileHandleMode = geteuid() == 0 ? .prefer : .never
    /// Open descriptors kept for inodes named by file handles; nil: half the
    /// soft RLIMIT_NOFILE at start-up.
    public var inodeDescriptorCache: Int?
    /// Open files and open directories the guest may hold, each; beyond it
    /// OPEN/CREATE/OPENDIR answer EMFILE. nil: an eighth of the soft RLIMIT_NOFILE.
    public var openHandleLimit: Int?
    /// Bounds on guest-driven growth (nodes, open directories, lock records).
    public var limits = PassthroughLimits()

    public init(sharedDir: String) { self.sharedDir = sharedDir }
}

/// `--inode-file-handles`, as virtiofsd's.
public enum InodeFileHandleMode: String, Sendable, CaseIterable {
    /// Every inode keeps an O_PATH descriptor open.
    case never
    /// File handles where the filesystem and capabilities allow, descriptors elsewhere.
    case prefer
    /// File handles or nothing: start-up fails without them, and so does the
    /// lookup of a file that has none (e.g. on another mount).
    case mandatory
}
