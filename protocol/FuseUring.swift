// FUSE over io_uring (include/uapi/linux/fuse.h 7.42; Debian's 7.38 header
// lacks it, so the layout tests check these against the kernel's numbers).
// Each ring entry is a header buffer (struct fuse_uring_req_header) and a
// payload buffer, registered with the kernel as two iovecs.

/// struct fuse_uring_req_header: where its parts sit in an entry's header buffer.
public enum FuseUringReqHeader {
    /// in_out[128]: fuse_in_header from the kernel, fuse_out_header back.
    public static let inOutOffset = 0
    /// op_in[128]: the opcode's fixed argument.
    public static let opInOffset = 128
    public static let opInSize = 128
    /// ring_ent_in_out: struct fuse_uring_ent_in_out.
    public static let entInOutOffset = 256
    public static let wireSize = entInOutOffset + FuseUringEntInOut.wireSize
}

/// struct fuse_uring_ent_in_out
public struct FuseUringEntInOut: WireRecord {
    public var flags: UInt64 = 0
    /// The request's unique, to be named in COMMIT_AND_FETCH.
    public var commitID: UInt64 = 0
    /// Bytes in the payload buffer: the request's, then the reply's.
    public var payloadSize: UInt32 = 0
    public var padding: UInt32 = 0
    public var reserved: UInt64 = 0
    @inlinable public init() {}
}

/// struct fuse_uring_cmd_req, in the SQE's command area.
public struct FuseUringCmdReq: WireRecord {
    public var flags: UInt64 = 0
    public var commitID: UInt64 = 0
    public var qid: UInt16 = 0
    public var padding: (UInt16, UInt16, UInt16) = (0, 0, 0)
    @inlinable public init() {}
}

/// enum fuse_uring_cmd, the SQE's cmd_op.
public enum FuseUringCommand: UInt32, Sendable {
    case invalid = 0
    /// Hands an entry to the kernel for its first request.
    case register = 1
    /// Answers the entry's request and hands the entry back for the next one.
    case commitAndFetch = 2
}
