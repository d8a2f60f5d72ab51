// Listing a server directory: a Tlopen'ed clone of its fid, Treaddir batches
// decoded into entries (each record checked: it must lie wholly inside the data
// the server counted, have a plain name, and move the offset on), Tclunk on close.

final class NinePDirectoryStream: DirectoryStream {
    private let fileSystem: NinePFileSystem
    /// Keeps the directory's node (and so its fid) alive while listing.
    private let directory: NinePNode
    private let fid: UInt32
    private var batch: [DirectoryEntry] = []
    private var position = 0
    private var nextOffset: UInt64 = 0
    private var atEnd = false
    private var isClosed = false

    init(fileSystem: NinePFileSystem, directory: NinePNode, fid: UInt32) {
        self.fileSystem = fileSystem
        self.directory = directory
        self.fid = fid
    }

    override func next() throws(Errno) -> DirectoryEntry? {
        while position >= batch.count {
            if atEnd || isClosed { return nil }
            try fetchBatch()
        }
        defer { position += 1 }
        return batch[position]
    }

    private func fetchBatch() throws(Errno) {
        let session = fileSystem.session
        let count = min(fileSystem.directoryBuffer.count, session.messageSize - NineP.dataReplyHeaderSize)
        let buffer = UnsafeMutableRawBufferPointer(rebasing: fileSystem.directoryBuffer[0..<count])
        var answer = try session.call(.readdir(fid: fid, offset: nextOffset, count: UInt32(count)), replyPayload: buffer)
        let received = try answer.dataCount(requested: count)
        batch.removeAll(keepingCapacity: true)
        position = 0
        guard received > 0 else {
            atEnd = true
            return
        }
        let startOffset = nextOffset
        var reader = NinePReader(UnsafeRawBufferPointer(rebasing: buffer[0..<received]))
        while reader.remaining > 0 {
            guard let entry = NinePDirectoryEntry.read(from: &reader), NinePDirectoryStream.isPlainName(entry.name) else {
                throw .EIO
            }
            nextOffset = entry.offset
            batch.append(DirectoryEntry(name: String(decoding: entry.name, as: UTF8.self), inode: entry.qid.path,
                                        kind: NinePDirectoryStream.kind(directoryEntryType: entry.type)))
        }
        // A server whose offsets do not move would make us list the same batch forever.
        if nextOffset == startOffset { throw .EIO }
    }

    /// A name is 1...255 bytes without "/" or NUL.
    private static func isPlainName(_ name: UnsafeRawBufferPointer) -> Bool {
        guard name.count > 0, name.count <= 255 else { return false }
        for byte in name where byte == UInt8(ascii: "/") || byte == 0 { return false }
        return true
    }

    /// d_type is S_IF* >> 12.
    private static func kind(directoryEntryType type: UInt8) -> FileKind {
        FileKind(modeBits: (UInt32(type) << 12) & LinuxFileMode.typeMask)
    }

    override func close() {
        guard !isClosed else { return }
        isClosed = true
        fileSystem.session.clunk(fid)
    }
}
