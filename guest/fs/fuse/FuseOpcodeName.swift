// Opcode names for statistics lines (Embedded Swift cannot print enum cases).

func fuseOpcodeName(_ code: UInt32) -> String {
    guard let opcode = FuseOpcode(rawValue: code) else { return "op\(code)" }
    switch opcode {
    case .lookup: return "LOOKUP"
    case .forget: return "FORGET"
    case .batchForget: return "BATCH_FORGET"
    case .getattr: return "GETATTR"
    case .setattr: return "SETATTR"
    case .mkdir: return "MKDIR"
    case .unlink: return "UNLINK"
    case .rmdir: return "RMDIR"
    case .rename: return "RENAME"
    case .open: return "OPEN"
    case .read: return "READ"
    case .write: return "WRITE"
    case .statfs: return "STATFS"
    case .release: return "RELEASE"
    case .fsync: return "FSYNC"
    case .flush: return "FLUSH"
    case .`init`: return "INIT"
    case .opendir: return "OPENDIR"
    case .readdir: return "READDIR"
    case .releasedir: return "RELEASEDIR"
    case .create: return "CREATE"
    case .readdirplus: return "READDIRPLUS"
    case .lseek: return "LSEEK"
    default: return "op\(code)"
    }
}
