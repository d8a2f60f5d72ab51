import ScatterGather
import SwiftFSProtocol

/// OPENDIR, READDIR, READDIRPLUS, RELEASEDIR.
extension FuseServer {
    func opendir(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader,
                 _ reply: inout ScatterWriter) throws(Errno) {
        let openIn = try request.take(FuseOpenIn.self)
        try putOpened(try fileSystem.opendir(context, node: node, flags: OpenFlags(openIn.flags)), &reply)
    }

    func readdir(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader,
                 _ reply: inout ScatterWriter, plus: Bool) throws(Errno) {
        let readIn = try request.take(FuseReadIn.self)
        var sink = DirectoryEntrySink(writer: reply, limit: min(Int(readIn.size), options.maxWrite), isPlus: plus)
        let handle = FileHandle(readIn.fh)
        if plus {
            try fileSystem.readdirplus(context, node: node, handle: handle, offset: readIn.offset, into: &sink)
        } else {
            try fileSystem.readdir(context, node: node, handle: handle, offset: readIn.offset, into: &sink)
        }
        reply = sink.writer
    }

    func releasedir(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader) throws(Errno) {
        let releaseIn = try request.take(FuseReleaseIn.self)
        try fileSystem.releasedir(context, node: node, handle: FileHandle(releaseIn.fh))
    }
}
