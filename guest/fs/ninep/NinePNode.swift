// A file or directory the guest holds a fid for (walked from its parent), with
// attributes kept for a short while like a FUSE client keeps them.
//
// The fid lives exactly as long as the node: when the last reference goes (the
// name cache dropped it and no open file or running call holds it), deinit
// hands the fid to the session, which clunks it between operations.

final class NinePNode: VNode, KindKeepingNode {
    let session: NinePSession
    let fid: UInt32
    /// Keeps the parent's fid alive while this node is cached under it.
    let parent: NinePNode?
    let kind: FileKind
    var attributes: FileStat
    /// monotonicNanoseconds() until which `attributes` may be used without Tgetattr.
    var attributesValidUntil: UInt64 = 0
    /// End of file as of the last attributes, moved by our own writes and truncates even when
    /// the attributes are stale (as Linux keeps i_size): an O_APPEND write needs no Tgetattr.
    var knownSize: Int? = nil

    init(session: NinePSession, fid: UInt32, parent: NinePNode?, attributes: FileStat) {
        self.session = session
        self.fid = fid
        self.parent = parent
        kind = attributes.kind
        self.attributes = attributes
    }

    deinit { session.clunkLater(fid) }

    func invalidateAttributes() { attributesValidUntil = 0 }
}

extension FileStat {
    /// struct stat from Rgetattr (the qid path is the inode number, as Linux's v9fs uses it).
    init(ninep a: NinePAttributes) {
        self.init()
        inode = a.qid.path
        kind = FileKind(modeBits: a.mode)
        permissions = a.mode & 0o7777
        linkCount = UInt32(clamping: a.nlink)
        size = Int(clamping: a.size)
        blocks = a.blocks
        blockSize = a.blockSize == 0 || a.blockSize > UInt64(UInt32.max) ? 4096 : UInt32(a.blockSize)
        accessTime = FileTime(seconds: Int64(bitPattern: a.atimeSeconds), nanoseconds: UInt32(min(a.atimeNanoseconds, 999_999_999)))
        modificationTime = FileTime(seconds: Int64(bitPattern: a.mtimeSeconds), nanoseconds: UInt32(min(a.mtimeNanoseconds, 999_999_999)))
        changeTime = FileTime(seconds: Int64(bitPattern: a.ctimeSeconds), nanoseconds: UInt32(min(a.ctimeNanoseconds, 999_999_999)))
    }
}
