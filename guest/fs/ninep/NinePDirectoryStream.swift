// Listing a server directory: a Tlopen'ed clone of its fid, Treaddir batches
// decoded into entries (each record checked: it must lie wholly inside the data
// the server counted, have a plain name, and move the offset on), Tclunk on close.

final class NinePDirectoryStream: BatchedDirectoryStream {
    private let fileSystem: NinePFileSystem
    /// Keeps the directory's node (and so its fid) alive while listing.
    private let directory: NinePNode
    private let fid: UInt32

    init(fileSystem: NinePFileSystem, directory: NinePNode, fid: UInt32) {
        self.fileSystem = fileSystem
        self.directory = directory
        self.fid = fid
    }

    override func fetchBatch(into batch: inout [DirectoryEntry]) throws(Errno) {
        let session = fileSystem.session
        let count = min(fileSystem.directoryBuffer.count, session.messageSize - NineP.dataReplyHeaderSize)
        let buffer = UnsafeMutableRawBufferPointer(rebasing: fileSystem.directoryBuffer[0..<count])
        var answer = try session.call(.readdir(fid: fid, offset: nextOffset, count: UInt32(count)), replyPayload: buffer)
        let received = try answer.dataCount(requested: count)
        var reader = NinePReader(UnsafeRawBufferPointer(rebasing: buffer[0..<received]))
        while reader.remaining > 0 {
            guard let entry = NinePDirectoryEntry.read(from: &reader), Self.isPlainName(entry.name) else {
                throw .EIO
            }
            nextOffset = entry.offset
            batch.append(DirectoryEntry(name: String(decoding: entry.name, as: UTF8.self), inode: entry.qid.path,
                                        kind: FileKind(directoryEntryType: UInt32(entry.type))))
        }
    }

    override func release() {
        fileSystem.session.clunk(fid)
    }
}
