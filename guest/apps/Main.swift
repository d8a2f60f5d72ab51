// Entry point from the kernel into the applications. The kernel calls this once,
// after devices are up, with the kernel command line; the return value becomes
// QEMU's exit status (0 = success).
//
//   app=selftest  [roots=/ram,/host]
//   app=dirtree   [root=/ram] [dirs=1000] [files=10000] [fanout=10] [size=128]
//   app=postmark  [root=/ram] [files=500] [transactions=500] [min=500] [max=10000] [subdirs=0]
//                 [seed=42] [read_block=512] [write_block=512] [bias_read=5] [bias_create=5]
//   app=latency   [roots=/ram,/host] [iterations=1000]
//   app=readbench file=PATH [mode=seq|rand] [bs=1048576] [passes=3] [size=BYTES (create if missing)] [seed=42]
//   app=daxcheck  [dir=/host/dax] [expect=on|off] (files prepared by scripts/guest-check dax)
//   common:       [tag=share] (virtio-fs tag mounted at /host)
//                 [fuse_cache=1] (0: no read-ahead/write-behind in the FUSE client)
//                 [dax=on|off] (read /host through the DAX window when there is one; default on)
// The app may also be given as the first word without "app=" ("selftest roots=/ram").
func applicationMain(commandLine: String) -> Int32 {
    let arguments = ApplicationArguments(parsing: commandLine)
    let tag = arguments.string("tag", default: "share")
    let dataCaching = arguments.integer("fuse_cache", default: 1) != 0
    let dax = arguments.string("dax", default: "on")
    guard dax == "on" || dax == "off" else {
        print("dax=\(dax): expected dax=on or dax=off")
        return 2
    }
    for line in mountStandardFileSystems(virtioFSTag: tag, dataCaching: dataCaching, dax: dax == "on") { print(line) }
    let app = arguments.string("app", default: arguments.firstBareWord ?? "selftest")
    let status: Int32
    switch app {
    case "selftest": status = runSelftest(arguments)
    case "dirtree": status = runDirtree(arguments)
    case "postmark": status = runPostmark(arguments)
    case "latency": status = runLatency(arguments)
    case "readbench": status = runReadBench(arguments)
    case "daxcheck": status = runDaxCheck(arguments)
    default:
        print("unknown app '\(app)': expected selftest, dirtree, postmark, latency, readbench or daxcheck")
        return 2
    }
    // Like an exiting process: what the filesystems still hold reaches the host before QEMU stops.
    do { try Posix.sync() } catch {
        print("sync at exit failed: \(error.name)")
        return status == 0 ? 1 : status
    }
    return status
}
