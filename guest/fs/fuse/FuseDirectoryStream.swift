// Listing a server directory: OPENDIR, then READDIRPLUS (or READDIR) batches
// decoded into entries, RELEASEDIR on close. READDIRPLUS entries also fill the
// lookup cache, so reading the listed files costs no LOOKUPs.

final class FuseDirectoryStream: BatchedDirectoryStream {
    private let fileSystem: FuseFileSystem
    private let directory: FuseNode
    private let handle: UInt64

    init(fileSystem: FuseFileSystem, directory: FuseNode, handle: UInt64) {
        self.fileSystem = fileSystem
        self.directory = directory
        self.handle = handle
    }

    override func fetchBatch(into batch: inout [DirectoryEntry]) throws(Errno) {
        let session = fileSystem.session
        let plus = session.usesReaddirPlus
        let buffer = fileSystem.directoryBuffer
        var arguments = FuseReadIn()
        arguments.fh = handle
        arguments.offset = nextOffset
        arguments.size = UInt32(buffer.count)
        var writer = try session.begin(plus ? .readdirplus : .readdir, nodeID: directory.nodeID)
        writer.write(arguments)
        let reply = try session.complete(writer, replyPayload: buffer)
        var reader = ByteReader(UnsafeRawBufferPointer(rebasing: buffer[0..<reply.payloadCount]))
        while reader.remaining > 0 {
            var entry: FuseEntryOut? = nil
            if plus {
                guard let record = reader.read(FuseEntryOut.self) else { throw .EIO }
                entry = record
            }
            guard let dirent = reader.read(FuseDirent.self), dirent.namelen <= 255,
                  let nameBytes = reader.readBytes(Int(dirent.namelen)),
                  Self.isPlainName(nameBytes) else { throw .EIO }
            let recordSize = FuseDirent.wireSize + Int(dirent.namelen)
            _ = reader.skip(FuseProtocol.recordAlign(recordSize) - recordSize)
            let name = String(decoding: nameBytes, as: UTF8.self)
            nextOffset = dirent.off
            batch.append(DirectoryEntry(name: name, inode: dirent.ino, kind: FileKind(directoryEntryType: dirent.type)))
            // "." and ".." are not counted lookups (the kernel skips them too).
            if let entry = entry, entry.nodeID != 0, name != ".", name != ".." {
                fileSystem.table.record(entry, name: name, in: directory)
            }
        }
    }

    override func release() {
        var arguments = FuseReleaseIn()
        arguments.fh = handle
        arguments.flags = LinuxOpenFlags.readOnly | LinuxOpenFlags.directory
        if var writer = try? fileSystem.session.begin(.releasedir, nodeID: directory.nodeID) {
            writer.write(arguments)
            try? fileSystem.session.send(inBackground: writer)
        }
        fileSystem.table.closed(directory)
    }
}
