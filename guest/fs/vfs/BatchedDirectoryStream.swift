// A directory listed from a server in batches (FUSE READDIR[PLUS], 9P Treaddir):
// subclasses fetch the next batch at `nextOffset` and give the server's handle
// back in `release`; this class hands the entries out one by one, ends the listing
// on an empty batch, and refuses a server whose offsets do not move (it would
// make us list the same batch forever).

class BatchedDirectoryStream: DirectoryStream {
    /// Where the next batch starts: the last entry's offset cookie (0 at first).
    var nextOffset: UInt64 = 0
    private var batch: [DirectoryEntry] = []
    private var position = 0
    private var atEnd = false
    private var isClosed = false

    override func next() throws(Errno) -> DirectoryEntry? {
        while position >= batch.count {
            if atEnd || isClosed { return nil }
            batch.removeAll(keepingCapacity: true)
            position = 0
            let startOffset = nextOffset
            try fetchBatch(into: &batch)
            if batch.isEmpty {
                atEnd = true
            } else if nextOffset == startOffset {
                throw .EIO
            }
        }
        defer { position += 1 }
        return batch[position]
    }

    /// Appends the entries that follow `nextOffset` and moves it on; appending
    /// nothing means the directory has no more.
    func fetchBatch(into batch: inout [DirectoryEntry]) throws(Errno) {}

    /// Whether a name from a server's listing can be an entry of a directory: 1...255 bytes
    /// (NAME_MAX) without "/" or NUL. Anything else is a faulty server: a "/" would make the
    /// entry name a path, and the lookup cache would file it under the wrong parent.
    static func isPlainName(_ name: UnsafeRawBufferPointer) -> Bool {
        guard name.count > 0, name.count <= 255 else { return false }
        for byte in name where byte == UInt8(ascii: "/") || byte == 0 { return false }
        return true
    }

    /// Gives the server's directory handle back; called once, by the first close.
    func release() {}

    override func close() {
        guard !isClosed else { return }
        isClosed = true
        release()
    }
}
