// Read-ahead and write-behind for the FUSE client: small sequential reads are
// served from one read-ahead buffer, small sequential writes are gathered into
// one write-behind buffer and sent as a single WRITE. This does what the page
// cache does for a Linux guest (postmark reads and writes in 512-byte blocks),
// with two preallocated buffers shared by all open files.
//
// Coherence: pending writes are sent before any other request goes to the
// server (FuseSession.beforeRequest), and the read-ahead data is dropped by
// any request other than READ, so every other operation sees the data written.
// As with a page cache, an error of a gathered write is reported by a later
// call on that file (at the latest close or fsync). `fuse_cache=0` on the
// command line turns both off.

final class FuseDataStaging {
    private let session: FuseSession
    let enabled: Bool

    private let writeBuffer: UnsafeMutableRawBufferPointer
    private var pending: (handle: UInt64, nodeID: UInt64, offset: Int, count: Int)? = nil
    /// The error of the last gathered write, owed to the file it belongs to.
    private var deferredError: (handle: UInt64, error: Errno)? = nil

    private let readBuffer: UnsafeMutableRawBufferPointer
    private var cached: (handle: UInt64, offset: Int, count: Int)? = nil
    /// Where the last staged READ found end of file, so the next read there costs no request.
    private var cachedEndOfFile: (handle: UInt64, offset: Int)? = nil

    init(session: FuseSession, enabled: Bool) {
        self.session = session
        self.enabled = enabled
        let writeCapacity = enabled ? min(session.maxWrite, 128 * 1024) : 0
        let readCapacity = enabled ? min(session.maxRead, 128 * 1024) : 0
        writeBuffer = .allocate(byteCount: max(writeCapacity, 1), alignment: 64)
        readBuffer = .allocate(byteCount: max(readCapacity, 1), alignment: 64)
    }

    deinit {
        writeBuffer.deallocate()
        readBuffer.deallocate()
    }

    /// FuseSession calls this before sending any request.
    func beforeRequest(_ opcode: FuseOpcode) throws(Errno) {
        if opcode != .read { dropReadAhead() }
        try flushWrites()
    }

    /// Sends the gathered write, if any. The error goes to the file that wrote the data.
    func flushWrites() throws(Errno) {
        guard let write = pending else { return }
        pending = nil   // before sending: the WRITE's own beforeRequest must find nothing to do
        let bytes = UnsafeRawBufferPointer(rebasing: writeBuffer[0..<write.count])
        do {
            _ = try sendWrite(handle: write.handle, nodeID: write.nodeID, bytes, at: write.offset)
        } catch {
            deferredError = (write.handle, error)
        }
    }

    /// Throws (once) the error of an earlier gathered write for `handle`.
    func reportDeferredError(for handle: UInt64) throws(Errno) {
        guard let deferred = deferredError, deferred.handle == handle else { return }
        deferredError = nil
        throw deferred.error
    }

    func write(handle: UInt64, nodeID: UInt64, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(Errno) -> Int {
        dropReadAhead()
        try reportDeferredError(for: handle)
        guard enabled, bytes.count <= writeBuffer.count / 2 else {
            try flushWrites()
            try reportDeferredError(for: handle)
            return try sendWrite(handle: handle, nodeID: nodeID, bytes, at: offset)
        }
        if let write = pending, write.handle == handle, write.offset + write.count == offset,
           write.count + bytes.count <= writeBuffer.count {
            (writeBuffer.baseAddress! + write.count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            pending = (handle, nodeID, write.offset, write.count + bytes.count)
            return bytes.count
        }
        try flushWrites()
        try reportDeferredError(for: handle)
        writeBuffer.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        pending = (handle, nodeID, offset, bytes.count)
        return bytes.count
    }

    /// Reads up to 32 KiB go through the read-ahead buffer; larger ones go straight to the caller's buffer.
    static let stagedReadLimit = 32 * 1024

    func read(handle: UInt64, nodeID: UInt64, flags: UInt32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(Errno) -> Int {
        if pending != nil { try flushWrites() }
        try reportDeferredError(for: handle)
        // Staging reads a whole read-ahead buffer at `offset`: only where that end is representable.
        guard enabled, buffer.count <= FuseDataStaging.stagedReadLimit, buffer.count < readBuffer.count,
              offset <= Int.max - readBuffer.count else {
            return try sendRead(handle: handle, nodeID: nodeID, flags: flags, into: buffer, at: offset)
        }
        var done = 0
        while done < buffer.count {
            let position = offset + done
            let destination = UnsafeMutableRawBufferPointer(rebasing: buffer[done...])
            if let read = cached, read.handle == handle, position >= read.offset, position < read.offset + read.count {
                done += copyCached(read, into: destination, at: position)
                continue
            }
            if let end = cachedEndOfFile, end.handle == handle, end.offset == position { break }
            dropReadAhead()
            let count = try sendRead(handle: handle, nodeID: nodeID, flags: flags, into: readBuffer, at: position)
            if count < readBuffer.count { cachedEndOfFile = (handle, position + count) }
            if count == 0 { break }
            let read = (handle: handle, offset: position, count: count)
            cached = read
            done += copyCached(read, into: destination, at: position)
            if count < readBuffer.count { break }   // the server hit end of file
        }
        return done
    }

    /// Drops staged state of a handle that is closing (after flushWrites).
    func forgetHandle(_ handle: UInt64) {
        if let read = cached, read.handle == handle { dropReadAhead() }
        if let deferred = deferredError, deferred.handle == handle { deferredError = nil }
    }

    func dropReadAhead() {
        cached = nil
        cachedEndOfFile = nil
    }

    private func copyCached(_ read: (handle: UInt64, offset: Int, count: Int), into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        let start = offset - read.offset
        let count = min(buffer.count, read.count - start)
        buffer.baseAddress!.copyMemory(from: readBuffer.baseAddress! + start, byteCount: count)
        return count
    }

    /// WRITE requests of at most max_write bytes each; returns the bytes the server took.
    func sendWrite(handle: UInt64, nodeID: UInt64, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(Errno) -> Int {
        var done = 0
        try transferInPieces(count: bytes.count, limit: session.maxWrite, done: &done) { (piece) throws(Errno) in
            var arguments = FuseWriteIn()
            arguments.fh = handle
            arguments.offset = UInt64(offset + piece.lowerBound)
            arguments.size = UInt32(piece.count)
            var writer = try session.begin(.write, nodeID: nodeID)
            writer.write(arguments)
            var reply = try session.complete(writer, payload: UnsafeRawBufferPointer(rebasing: bytes[piece]))
            return Int(try reply.read(FuseWriteOut.self).size)
        }
        return done
    }

    /// READ requests of at most max_read bytes each, straight into `buffer`; stops at end of file.
    func sendRead(handle: UInt64, nodeID: UInt64, flags: UInt32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(Errno) -> Int {
        var done = 0
        try transferInPieces(count: buffer.count, limit: session.maxRead, done: &done) { (piece) throws(Errno) in
            var arguments = FuseReadIn()
            arguments.fh = handle
            arguments.offset = UInt64(offset + piece.lowerBound)
            arguments.size = UInt32(piece.count)
            arguments.flags = flags
            var writer = try session.begin(.read, nodeID: nodeID)
            writer.write(arguments)
            let reply = try session.complete(writer, replyPayload: UnsafeMutableRawBufferPointer(rebasing: buffer[piece]))
            return reply.payloadCount
        }
        return done
    }
}
