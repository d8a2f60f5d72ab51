import ScatterGather
import SwiftFSProtocol

/// Requests about names and attributes: LOOKUP, GETATTR, SETATTR, READLINK,
/// SYMLINK, MKNOD, MKDIR, UNLINK, RMDIR, RENAME, RENAME2, LINK.
extension FuseServer {
    func lookup(_ context: RequestContext, _ parent: NodeID, _ request: inout ScatterReader,
                _ reply: inout ScatterWriter) throws(Errno) {
        let entry = try request.withArgumentStrings(limit: ArgumentLimits.names) { (s) throws(Errno) in
            try fileSystem.lookup(context, parent: parent, name: try s.nextName(allowDots: true))
        }
        try reply.put(entry.wire)
    }

    func getattr(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader,
                 _ reply: inout ScatterWriter) throws(Errno) {
        let getattrIn = try request.take(FuseGetattrIn.self)
        let handle = getattrIn.getattrFlags & FuseFlag.getattrFH != 0 ? FileHandle(getattrIn.fh) : nil
        try putAttributes(try fileSystem.getattr(context, node: node, handle: handle), &reply)
    }

    func setattr(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader,
                 _ reply: inout ScatterWriter) throws(Errno) {
        let setattrIn = try request.take(FuseSetattrIn.self)
        let valid = FuseSetattrValid(rawValue: setattrIn.valid)
        var changes = AttributeChanges()
        if valid.contains(.mode) { changes.mode = setattrIn.mode }
        if valid.contains(.uid) { changes.uid = setattrIn.uid }
        if valid.contains(.gid) { changes.gid = setattrIn.gid }
        if valid.contains(.size) { changes.size = setattrIn.size }
        if valid.contains(.atime) {
            changes.atime = valid.contains(.atimeNow) ? .now : .at(seconds: setattrIn.atime, nanoseconds: setattrIn.atimensec)
        }
        if valid.contains(.mtime) {
            changes.mtime = valid.contains(.mtimeNow) ? .now : .at(seconds: setattrIn.mtime, nanoseconds: setattrIn.mtimensec)
        }
        if valid.contains(.fh) { changes.handle = FileHandle(setattrIn.fh) }
        if valid.contains(.lockOwner) { changes.lockOwner = setattrIn.lockOwner }
        changes.killSuidgid = valid.contains(.killSuidgid)
        try putAttributes(try fileSystem.setattr(context, node: node, changes: changes), &reply)
    }

    private func putAttributes(_ attributes: Attributes, _ reply: inout ScatterWriter) throws(Errno) {
        var out = FuseAttrOut()
        out.attrValid = attributes.timeout.seconds
        out.attrValidNsec = attributes.timeout.nanoseconds
        out.attr = attributes.attr
        try reply.put(out)
    }

    func readlink(_ context: RequestContext, _ node: NodeID, _ reply: inout ScatterWriter) throws(Errno) {
        let result: Result<Void, Errno> = withUnsafeTemporaryAllocation(byteCount: ArgumentLimits.pathMax, alignment: 1) { buffer in
            do throws(Errno) {
                let length = try fileSystem.readlink(context, node: node, into: buffer)
                guard length >= 0, length <= buffer.count else { throw Errno.EIO }
                guard reply.write(bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<length])) else { throw Errno.ERANGE }
                return .success(())
            } catch { return .failure(error) }
        }
        try result.get()
    }

    func symlink(_ context: RequestContext, _ parent: NodeID, _ request: inout ScatterReader,
                 _ reply: inout ScatterWriter) throws(Errno) {
        let limit = FileName.maxLength + 1 + ArgumentLimits.pathMax + 512
        let entry = try request.withArgumentStrings(limit: limit) { (s) throws(Errno) in
            let name = try s.nextName()
            let target = try s.next()
            guard target.count > 0 else { throw Errno.EINVAL }
            guard target.count < ArgumentLimits.pathMax else { throw Errno.ENAMETOOLONG }
            return try fileSystem.symlink(context, parent: parent, name: name, target: target)
        }
        try reply.put(entry.wire)
    }

    func mknod(_ context: RequestContext, _ parent: NodeID, _ request: inout ScatterReader,
               _ reply: inout ScatterWriter) throws(Errno) {
        let mknodIn = try request.take(FuseMknodIn.self)
        let entry = try request.withArgumentStrings(limit: ArgumentLimits.names) { (s) throws(Errno) in
            try fileSystem.mknod(context, parent: parent, name: try s.nextName(), mode: mknodIn.mode,
                                 rdev: mknodIn.rdev, umask: mknodIn.umask)
        }
        try reply.put(entry.wire)
    }

    func mkdir(_ context: RequestContext, _ parent: NodeID, _ request: inout ScatterReader,
               _ reply: inout ScatterWriter) throws(Errno) {
        let mkdirIn = try request.take(FuseMkdirIn.self)
        let entry = try request.withArgumentStrings(limit: ArgumentLimits.names) { (s) throws(Errno) in
            try fileSystem.mkdir(context, parent: parent, name: try s.nextName(), mode: mkdirIn.mode, umask: mkdirIn.umask)
        }
        try reply.put(entry.wire)
    }

    func unlink(_ context: RequestContext, _ parent: NodeID, _ request: inout ScatterReader) throws(Errno) {
        try request.withArgumentStrings(limit: ArgumentLimits.names) { (s) throws(Errno) in
            try fileSystem.unlink(context, parent: parent, name: try s.nextName())
        }
    }

    func rmdir(_ context: RequestContext, _ parent: NodeID, _ request: inout ScatterReader) throws(Errno) {
        try request.withArgumentStrings(limit: ArgumentLimits.names) { (s) throws(Errno) in
            try fileSystem.rmdir(context, parent: parent, name: try s.nextName())
        }
    }

    func rename(_ context: RequestContext, _ parent: NodeID, _ request: inout ScatterReader,
                hasFlags: Bool) throws(Errno) {
        let newParent: NodeID
        var flags = RenameFlags()
        if hasFlags {
            let renameIn = try request.take(FuseRename2In.self)
            newParent = NodeID(renameIn.newDir)
            flags = RenameFlags(rawValue: renameIn.flags)
            guard RenameFlags([.noReplace, .exchange, .whiteout]).isSuperset(of: flags),
                  !(flags.contains(.exchange) && flags.contains(.noReplace)) else { throw Errno.EINVAL }
        } else {
            newParent = NodeID(try request.take(FuseRenameIn.self).newDir)
        }
        try request.withArgumentStrings(limit: ArgumentLimits.names) { (s) throws(Errno) in
            let name = try s.nextName()
            let newName = try s.nextName()
            try fileSystem.rename(context, parent: parent, name: name, newParent: newParent, newName: newName, flags: flags)
        }
    }

    func link(_ context: RequestContext, _ newParent: NodeID, _ request: inout ScatterReader,
              _ reply: inout ScatterWriter) throws(Errno) {
        let linkIn = try request.take(FuseLinkIn.self)
        let entry = try request.withArgumentStrings(limit: ArgumentLimits.names) { (s) throws(Errno) in
            try fileSystem.link(context, node: NodeID(linkIn.oldNodeID), newParent: newParent, newName: try s.nextName())
        }
        try reply.put(entry.wire)
    }
}
