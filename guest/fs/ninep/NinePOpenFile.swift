// A file opened on the server: its own fid (Tlopen or Tlcreate), clunked on close.
// Reads and writes go in pieces of at most msize - 24 bytes straight between the
// device and the caller's buffer (guest memory is identity-mapped).

final class NinePOpenFile: OpenFile {
    private let fileSystem: NinePFileSystem
    let fid: UInt32
    /// The node it was opened from (nil after Tlcreate), whose cached attributes writes make stale.
    private let node: NinePNode?
    private let chunkLimit: Int
    /// The end of file as our own writes left it, for a file created here (no node to keep it).
    private var createdFileSize: Int? = nil
    private var isClosed = false

    init(fileSystem: NinePFileSystem, fid: UInt32, node: NinePNode?, ioUnit: UInt32) {
        self.fileSystem = fileSystem
        self.fid = fid
        self.node = node
        chunkLimit = fileSystem.session.dataLimit(ioUnit: ioUnit)
        if node == nil { createdFileSize = 0 }
    }

    /// The size our writes and truncates produced, where known.
    private var knownSize: Int? {
        get { node == nil ? createdFileSize : node!.knownSize }
        set { if let node = node { node.knownSize = newValue } else { createdFileSize = newValue } }
    }

    private var session: NinePSession { fileSystem.session }

    override func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(Errno) -> Int {
        guard !isClosed else { throw .EBADF }
        guard offset >= 0 else { throw .EINVAL }
        // Nothing can be read past Int.max, whatever the server answers.
        let total = min(buffer.count, Int.max - offset)
        var done = 0
        try transferInPieces(count: total, limit: chunkLimit, done: &done) { (piece) throws(Errno) in
            var answer = try session.call(.read(fid: fid, offset: UInt64(offset + piece.lowerBound), count: UInt32(piece.count)),
                                          replyPayload: UnsafeMutableRawBufferPointer(rebasing: buffer[piece]))
            return try answer.dataCount(requested: piece.count)
        }
        return done
    }

    override func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(Errno) -> Int {
        guard !isClosed else { throw .EBADF }
        guard offset >= 0 else { throw .EINVAL }
        var done = 0
        defer {
            if done > 0 {
                node?.invalidateAttributes()   // size and mtime changed
                if let size = knownSize { knownSize = max(size, offset + done) }
            }
        }
        try transferInPieces(count: bytes.count, limit: chunkLimit, done: &done) { (piece) throws(Errno) in
            var answer = try session.call(.write(fid: fid, offset: UInt64(offset + piece.lowerBound), dataCount: UInt32(piece.count)),
                                          payload: UnsafeRawBufferPointer(rebasing: bytes[piece]))
            let count = Int(try answer.u32())
            try answer.end()
            return count
        }
        if done == 0 && bytes.count > 0 { throw .EIO }
        return done
    }

    override func attributes() throws(Errno) -> FileStat {
        guard !isClosed else { throw .EBADF }
        if let node = node { return try fileSystem.attributes(of: node) }
        return try fileSystem.fetchAttributes(fid: fid)
    }

    override func sizeForAppend() throws(Errno) -> Int {
        if let size = knownSize { return size }
        let size = try attributes().size
        knownSize = size
        return size
    }

    override func truncate(to size: Int) throws(Errno) {
        guard size >= 0 else { throw .EINVAL }
        var changes = AttributeChanges()
        changes.size = size
        try fileSystem.setAttributes(fid: fid, changes)
        node?.invalidateAttributes()
        knownSize = size
    }

    override func sync() throws(Errno) {
        let answer = try session.call(.fsync(fid: fid, dataOnly: 0))
        try answer.end()
    }

    override func close() throws(Errno) {
        guard !isClosed else { return }
        isClosed = true
        node?.invalidateAttributes()
        if let error = session.clunk(fid) { throw error }
    }
}
