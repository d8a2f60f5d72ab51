import ScatterGather
import SwiftFSProtocol

/// DAX window requests: SETUPMAPPING and REMOVEMAPPING.
extension FuseServer {
    /// Linux sends fh = all ones and names the file by the request's node id.
    static var mappingByNode: UInt64 { UInt64.max }

    func setupMapping(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader) throws(Errno) {
        let mapping = try request.take(FuseSetupMappingIn.self)
        if options.readOnly && ReadOnlyPolicy.maps(forWriting: mapping.flags) { throw Errno.EROFS }
        let handle = mapping.fh == Self.mappingByNode ? nil : FileHandle(mapping.fh)
        let range = DaxRange(windowOffset: mapping.moffset, fileOffset: mapping.foffset, length: mapping.len)
        try fileSystem.setupMapping(context, node: node, handle: handle, range: range, flags: mapping.flags)
    }

    func removeMapping(_ context: RequestContext, _ node: NodeID, _ request: inout ScatterReader) throws(Errno) {
        let removal = try request.take(FuseRemoveMappingIn.self)
        // The count must match entries actually present: never read past the request.
        let count = Int(removal.count)
        guard count <= request.remaining / FuseRemoveMappingOne.wireSize else { throw Errno.EINVAL }
        var ranges: [FuseRemoveMappingOne] = []
        ranges.reserveCapacity(count)
        for _ in 0..<count { ranges.append(try request.take(FuseRemoveMappingOne.self)) }
        try fileSystem.removeMapping(context, node: node, ranges: ranges)
    }
}
