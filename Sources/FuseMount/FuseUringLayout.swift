/// FUSE over io_uring wire layout (linux/fuse.h 7.42; Debian's 7.38 header
/// lacks it): each ring entry is a 288-byte header buffer plus a payload
/// buffer, registered with the kernel as two iovecs.
enum FuseUringLayout {
    /// struct fuse_uring_req_header: in_out[128] (fuse_in_header going out to
    /// us, fuse_out_header coming back), op_in[128] (the opcode's fixed
    /// argument), then struct fuse_uring_ent_in_out.
    static let headerSize = 288
    static let inOutOffset = 0
    static let opInOffset = 128
    static let opInSize = 128
    static let entFlagsOffset = 256
    static let commitIdOffset = 264
    static let payloadSizeOffset = 272

    /// enum fuse_uring_cmd, the SQE's cmd_op.
    static let commandRegister: UInt32 = 1
    static let commandCommitAndFetch: UInt32 = 2

    /// INIT flag FUSE_OVER_IO_URING (1 << 41): bit 9 of flags2.
    static let initFlags2OverIoUring: UInt32 = 1 << 9
    /// INIT flag FUSE_INIT_EXT (1 << 30): the init_in/init_out carry flags2.
    static let initFlagInitExt: UInt32 = 1 << 30
    /// FUSE_MAX_PAGES (1 << 22): init_out.max_pages is valid.
    static let initFlagMaxPages: UInt32 = 1 << 22

    /// FUSE_MIN_READ_BUFFER: the kernel's smallest payload buffer.
    static let minimumPayload = 8192
    /// FUSE_DEFAULT_MAX_PAGES_PER_REQ: the kernel's max_pages without FUSE_MAX_PAGES.
    static let defaultMaxPages = 32

    /// struct fuse_uring_cmd_req in the SQE's 80-byte command area:
    /// flags u64, commit_id u64, qid u16, padding (qid in the low bytes: little-endian hosts).
    static func command(commitId: UInt64, queue: UInt16) -> (UInt64, UInt64, UInt64) {
        (0, commitId, UInt64(queue))
    }
}
