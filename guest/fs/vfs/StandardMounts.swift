// The guest's fixed layout: a RAM root holding /ram (another RAM filesystem)
// and /host: the virtio-fs device with the requested tag, or, when there is
// none, the virtio-9p device with that tag (scripts/run-guest --transport 9p).

/// Mounts /ram and /host; returns log lines describing what happened.
/// `dax`: read through the device's DAX window if it has one and the daemon grants it.
func mountStandardFileSystems(virtioFSTag tag: String, dataCaching: Bool = true, dax: Bool = true) -> [String] {
    var log: [String] = []
    let root = systemVFS.mounts[systemVFS.mounts.count - 1].fileSystem
    for directory in ["ram", "host"] {
        _ = try? root.makeDirectory(directory, in: root.rootNode, permissions: 0o755)
    }
    do {
        try systemVFS.mount(RamFileSystem(label: "ramfs"), at: "/ram")
        log.append("mount: ramfs on /ram")
    } catch {
        log.append("mount: /ram failed: \(error.name)")
    }
    if !virtioFSDevices.contains(where: { $0.tag == tag }),
       let device = virtioNinePDevices.first(where: { $0.tag == tag }) {
        do {
            let fileSystem = try NinePFileSystem(device: device)
            try systemVFS.mount(fileSystem, at: "/host")
            log.append("mount: 9p '\(tag)' on /host (\(fileSystem.sessionSummary))")
        } catch {
            log.append("mount: 9p '\(tag)' failed: \(error.name)")
        }
        return log
    }
    guard let device = virtioFSDevices.first(where: { $0.tag == tag }) else {
        var tags = ""
        for device in virtioFSDevices { tags += " '" + device.tag + "'" }
        for device in virtioNinePDevices { tags += " '" + device.tag + "' (9p)" }
        log.append("mount: no virtio-fs or 9p device tagged '\(tag)' (found:\(tags.isEmpty ? " none" : tags)); /host not mounted")
        return log
    }
    do {
        let fileSystem = try FuseFileSystem(device: device, dataCaching: dataCaching, daxWanted: dax)
        try systemVFS.mount(fileSystem, at: "/host")
        log.append("mount: virtio-fs '\(tag)' on /host (\(fileSystem.sessionSummary))")
    } catch {
        log.append("mount: virtio-fs '\(tag)' failed: \(error.name)")
    }
    return log
}
