// app=latency: nanoseconds per call for the basic operations on each root,
// `iterations` timed calls each, reported as median / mean / min.

func runLatency(_ arguments: ApplicationArguments) -> Int32 {
    let iterations = max(1, arguments.integer("iterations", default: 1000))
    var failures = 0
    for root in arguments.list("roots", default: ["/ram", "/host"]) {
        guard systemVFS.fileSystem(mountedAt: root) != nil else {
            print("latency: nothing mounted at \(root)")
            failures += 1
            continue
        }
        failures += measureLatencies(root: root, iterations: iterations)
    }
    print(failures == 0 ? "latency: done" : "latency: \(failures) failures")
    return failures == 0 ? 0 : 1
}

private func measureLatencies(root: String, iterations: Int) -> Int {
    let directory = root + "/latency"
    let path = directory + "/file"
    var block = [UInt8](repeating: 0x5A, count: 4096)
    let fd: Int32
    do {
        try removeTree(directory)
        try Posix.mkdir(directory)
        try Posix.writeFile(path, block)
        fd = try Posix.open(path, .readWrite)
    } catch {
        print("latency: setup on \(root) failed: \(error.name)")
        return 1
    }
    var failures = 0
    failures += timeOperation("open_close", root, iterations) { (_) throws(Errno) in
        try Posix.close(try Posix.open(path, .readOnly))
    }
    failures += timeOperation("stat", root, iterations) { (_) throws(Errno) in _ = try Posix.stat(path) }
    // The same stat with all caches dropped first (not timed): LOOKUP of every component.
    failures += timeOperation("stat_cold", root, iterations, prepare: { () throws(Errno) in try Posix.dropCaches() }) {
        (_) throws(Errno) in _ = try Posix.stat(path)
    }
    failures += timeOperation("read_4k", root, iterations) { (_) throws(Errno) in
        guard try Posix.pread(fd, into: &block, at: 0) == 4096 else { throw .EIO }
    }
    failures += timeOperation("write_4k", root, iterations) { (_) throws(Errno) in
        guard try Posix.pwrite(fd, block, at: 0) == 4096 else { throw .EIO }
    }
    failures += timeOperation("create_unlink", root, iterations) { (i) throws(Errno) in
        let name = directory + "/c\(i)"
        try Posix.close(try Posix.open(name, [.create, .exclusive, .writeOnly]))
        try Posix.unlink(name)
    }
    try? Posix.close(fd)
    do { try removeTree(directory) } catch { failures += 1 }
    return failures
}

/// Times `body` once per iteration and prints the statistics; returns 1 on failure.
private func timeOperation(_ name: String, _ root: String, _ iterations: Int,
                           prepare: (() throws(Errno) -> Void)? = nil,
                           _ body: (Int) throws(Errno) -> Void) -> Int {
    var samples = [UInt64](repeating: 0, count: iterations)
    let fuse = (systemVFS.fileSystem(mountedAt: root) as? FuseFileSystem)?.session
    let ninep = (systemVFS.fileSystem(mountedAt: root) as? NinePFileSystem)?.session
    fuse?.resetStatistics()
    ninep?.resetStatistics()
    // Requests and device time of the untimed preparation are left out of the statistics.
    var excludedRequests: UInt64 = 0, excludedDeviceNanoseconds: UInt64 = 0
    for i in 0..<iterations {
        if let prepare = prepare {
            let (requestsBefore, deviceBefore) = requestTotals(fuse, ninep)
            do { try prepare() } catch {
                print("latency: preparing \(name) on \(root) failed: \(error.name)")
                return 1
            }
            let (requestsAfter, deviceAfter) = requestTotals(fuse, ninep)
            excludedRequests += requestsAfter - requestsBefore
            excludedDeviceNanoseconds += deviceAfter - deviceBefore
        }
        let start = monotonicNanoseconds()
        do { try body(i) } catch {
            print("latency: \(name) on \(root) failed: \(error.name)")
            return 1
        }
        samples[i] = monotonicNanoseconds() - start
    }
    samples.sort()
    var total: UInt64 = 0
    for sample in samples { total += sample }
    let median = samples[iterations / 2]
    let mean = total / UInt64(iterations)
    // On /host: FUSE (or 9P) requests per call and the part of the mean spent waiting for the device.
    var fuseDetail = ""
    if fuse != nil || ninep != nil {
        let (requests, device) = requestTotals(fuse, ninep)
        let timedRequests = requests - excludedRequests
        let timedDevice = device - excludedDeviceNanoseconds
        fuseDetail = " requests_per_call=\(formatFixed(Double(timedRequests) / Double(iterations))) device_ns_per_call=\(timedDevice / UInt64(iterations))"
        // The guest's split of each FUSE round trip (submit + kick, then waiting for the used ring).
        if let roundTrips = fuse?.device.roundTrips, roundTrips.count > 0 {
            fuseDetail += " submit_ns=\(roundTrips.submitNanoseconds / roundTrips.count)"
                + " kick_ns=\(roundTrips.kicks == 0 ? 0 : roundTrips.kickNanoseconds / roundTrips.kicks)"
                + " round_trip_median_ns=\(roundTrips.quantileNanoseconds(0.5))"
        }
    }
    print("latency: \(root) \(name): median \(median) ns, mean \(mean) ns, min \(samples[0]) ns\(fuseDetail)")
    print("RESULT latency root=\(root) op=\(name) iterations=\(iterations) median_ns=\(median) mean_ns=\(mean) min_ns=\(samples[0])\(fuseDetail)")
    return 0
}

/// Requests sent and device nanoseconds so far on a FUSE or 9P session (zero without one).
private func requestTotals(_ fuse: FuseSession?, _ ninep: NinePSession?) -> (UInt64, UInt64) {
    var requests: UInt64 = 0
    if let session = fuse {
        for count in session.requestCounts { requests += count }
        return (requests, session.deviceNanoseconds)
    }
    if let session = ninep {
        for count in session.requestCounts { requests += count }
        return (requests, session.deviceNanoseconds)
    }
    return (0, 0)
}
