// The FUSE request mix behind a benchmark on /host, so a table can show
// round trips per operation next to the timings.

func resetFuseStatistics(root: String) {
    (systemVFS.fileSystem(mountedAt: root) as? FuseFileSystem)?.session.resetStatistics()
}

func printFuseStatistics(app: String, root: String) {
    guard let fileSystem = systemVFS.fileSystem(mountedAt: root) as? FuseFileSystem else { return }
    print("RESULT fuse_requests app=\(app) root=\(root) \(fileSystem.session.statisticsSummary) cached_nodes=\(fileSystem.table.nodeCount) cached_entries=\(fileSystem.table.entryCount)")
}
