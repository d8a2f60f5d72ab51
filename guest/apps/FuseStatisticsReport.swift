// The FUSE (or 9P) request mix behind a benchmark on /host, so a table can show
// round trips per operation next to the timings.

func resetFuseStatistics(root: String) {
    (systemVFS.fileSystem(mountedAt: root) as? FuseFileSystem)?.session.resetStatistics()
    (systemVFS.fileSystem(mountedAt: root) as? NinePFileSystem)?.session.resetStatistics()
}

func printFuseStatistics(app: String, root: String) {
    if let ninep = systemVFS.fileSystem(mountedAt: root) as? NinePFileSystem {
        print("RESULT ninep_requests app=\(app) root=\(root) \(ninep.session.statisticsSummary) fids=\(ninep.session.fidsInUse) cached_entries=\(ninep.names.count)")
    }
    guard let fileSystem = systemVFS.fileSystem(mountedAt: root) as? FuseFileSystem else { return }
    print("RESULT fuse_requests app=\(app) root=\(root) \(fileSystem.session.statisticsSummary) cached_nodes=\(fileSystem.table.nodeCount) cached_entries=\(fileSystem.table.entryCount)")
}
