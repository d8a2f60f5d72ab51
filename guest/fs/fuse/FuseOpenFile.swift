// A file opened on the server (a FUSE file handle). Reads copy from the DAX
// window when the session has one, else (and for ranges the window cannot
// take) they go through FuseDataStaging like writes; close sends FLUSH and RELEASE.

final class FuseOpenFile: OpenFile {
    private let fileSystem: FuseFileSystem
    let node: FuseNode
    let handle: UInt64
    private let flags: OpenFlags
    private let openFlags: FuseOpenOutFlags
    private var wroteData = false
    private var isClosed = false

    init(fileSystem: FuseFileSystem, node: FuseNode, handle: UInt64, flags: OpenFlags, openFlags: FuseOpenOutFlags) {
        self.fileSystem = fileSystem
        self.node = node
        self.handle = handle
        self.flags = flags
        self.openFlags = openFlags
    }

    private var session: FuseSession { fileSystem.session }
    private var readFlags: UInt32 { UInt32(bitPattern: flags.rawValue) }

    override func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(Errno) -> Int {
        guard offset >= 0 else { throw .EINVAL }
        guard buffer.count > 0 else { return 0 }
        // Nothing can be read past Int.max; the limit keeps offset + bytes read representable
        // whatever the server answers.
        let limited = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, Int.max - offset)])
        guard limited.count > 0 else { return 0 }
        if let dax = fileSystem.dax, dax.isActive {
            return try readThroughWindow(dax, into: limited, at: offset)
        }
        return try fileSystem.staging.read(handle: handle, nodeID: node.nodeID, flags: readFlags, into: limited, at: offset)
    }

    /// Copies from the DAX window range by range, mapping ranges as needed; a range the
    /// window cannot take is read with FUSE_READ. Ends at the size known for the file
    /// (fetched at open, moved by our own writes and truncates), as Linux DAX reads end at i_size.
    private func readThroughWindow(_ dax: DaxWindow, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(Errno) -> Int {
        let staging = fileSystem.staging
        try staging.flushWrites()   // the daemon updates mapped ranges on WRITE: send ours first
        try staging.reportDeferredError(for: handle)
        let size: Int
        if let known = node.knownSize { size = known } else { size = try attributes().size }
        guard offset < size else { return 0 }
        let end = offset + min(buffer.count, size - offset)
        let version = DaxFileVersion(node.attributes)
        var position = offset
        while position < end {
            let index = position >> DaxWindow.rangeShift
            let rangeStart = index << DaxWindow.rangeShift
            let pieceEnd = min(end, rangeStart + DaxWindow.rangeSize)
            let destination = UnsafeMutableRawBufferPointer(rebasing: buffer[(position - offset)..<(pieceEnd - offset)])
            if let slot = try dax.borrow(nodeID: node.nodeID, handle: handle, index: index, version: version) {
                destination.baseAddress!.copyMemory(from: dax.address(of: slot) + (position - rangeStart),
                                                    byteCount: destination.count)
                dax.giveBack(slot)
                position = pieceEnd
            } else {
                let count = try staging.read(handle: handle, nodeID: node.nodeID, flags: readFlags, into: destination, at: position)
                position += count
                if count < destination.count { break }   // the server found end of file first
            }
        }
        return position - offset
    }

    override func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(Errno) -> Int {
        guard offset >= 0 else { throw .EINVAL }
        guard bytes.count > 0 else { return 0 }
        let count = try fileSystem.staging.write(handle: handle, nodeID: node.nodeID, bytes, at: offset)
        wroteData = true
        node.attributesValidUntil = 0   // size and mtime changed on the server
        if let size = node.knownSize { node.knownSize = max(size, offset + count) }
        return count
    }

    override func attributes() throws(Errno) -> FileStat {
        try fileSystem.attributes(of: node)
    }

    override func sizeForAppend() throws(Errno) -> Int {
        if let size = node.knownSize { return size }
        return try attributes().size
    }

    override func truncate(to size: Int) throws(Errno) {
        guard size >= 0 else { throw .EINVAL }
        var changes = AttributeChanges()
        changes.size = size
        _ = try fileSystem.setAttributes(of: node, changes, handle: handle)
    }

    override func sync() throws(Errno) {
        try fileSystem.staging.flushWrites()
        try fileSystem.staging.reportDeferredError(for: handle)
        guard fileSystem.fsyncSupported else { return }
        var arguments = FuseFsyncIn()
        arguments.fh = handle
        var writer = try session.begin(.fsync, nodeID: node.nodeID)
        writer.write(arguments)
        do {
            _ = try session.complete(writer)
        } catch {
            guard error == .ENOSYS else { throw error }
            fileSystem.fsyncSupported = false
        }
    }

    override func seek(_ origin: SeekOrigin, from offset: Int) throws(Errno) -> Int {
        guard fileSystem.lseekSupported else { return try super.seek(origin, from: offset) }
        try fileSystem.staging.flushWrites()
        var arguments = FuseLseekIn()
        arguments.fh = handle
        arguments.offset = UInt64(bitPattern: Int64(offset))
        arguments.whence = UInt32(origin.rawValue)
        var writer = try session.begin(.lseek, nodeID: node.nodeID)
        writer.write(arguments)
        do {
            var reply = try session.complete(writer)
            return Int(clamping: try reply.read(FuseLseekOut.self).offset)
        } catch {
            guard error == .ENOSYS || error == .EOPNOTSUPP else { throw error }
            fileSystem.lseekSupported = false
            return try super.seek(origin, from: offset)
        }
    }

    /// FLUSH (skipped for files that were only read: nothing to flush, one round trip saved)
    /// then RELEASE, sent in the background as Linux does (its reply carries nothing; close
    /// reports write-behind and FLUSH errors). The handle is released regardless.
    override func close() throws(Errno) {
        guard !isClosed else { return }
        isClosed = true
        var firstError: Errno? = nil
        do {
            try fileSystem.staging.flushWrites()
            try fileSystem.staging.reportDeferredError(for: handle)
        } catch { firstError = error }
        fileSystem.staging.forgetHandle(handle)
        if fileSystem.flushSupported && (wroteData || flags.canWrite) && !openFlags.contains(.noflush) {
            var arguments = FuseFlushIn()
            arguments.fh = handle
            do {
                var writer = try session.begin(.flush, nodeID: node.nodeID)
                writer.write(arguments)
                _ = try session.complete(writer)
            } catch {
                if error == .ENOSYS { fileSystem.flushSupported = false } else if firstError == nil { firstError = error }
            }
        }
        var release = FuseReleaseIn()
        release.fh = handle
        release.flags = UInt32(bitPattern: flags.rawValue)
        do {
            var writer = try session.begin(.release, nodeID: node.nodeID)
            writer.write(release)
            try session.send(inBackground: writer)
        } catch {
            if firstError == nil { firstError = error }
        }
        if wroteData { node.attributesValidUntil = 0 }
        fileSystem.table.closed(node)
        if let error = firstError { throw error }
    }
}
