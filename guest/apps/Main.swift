// Entry point from the kernel into the applications. The kernel calls this once,
// after devices are up, with the kernel command line; the return value becomes
// QEMU's exit status (0 = success).
//
//   app=selftest  [roots=/ram,/host]
//   app=dirtree   [root=/ram] [dirs=1000] [files=10000] [fanout=10] [size=128]
//   app=postmark  [root=/ram] [files=500] [transactions=500] [min=500] [max=10000] [subdirs=0]
//                 [seed=42] [read_block=512] [write_block=512] [bias_read=5] [bias_create=5]
//   app=latency   [roots=/ram,/host] [iterations=1000]
//   common:       [tag=share] (virtio-fs tag mounted at /host)
//                 [fuse_cache=1] (0: no read-ahead/write-behind in the FUSE client)
// The app may also be given as the first word without "app=" ("selftest roots=/ram").
func applicationMain(commandLine: String) -> Int32 {
    let arguments = ApplicationArguments(parsing: commandLine)
    let tag = arguments.string("tag", default: "share")
    let dataCaching = arguments.integer("fuse_cache", default: 1) != 0
    for line in mountStandardFileSystems(virtioFSTag: tag, dataCaching: dataCaching) { print(line) }
    let app = arguments.string("app", default: arguments.firstBareWord ?? "selftest")
    let status: Int32
    switch app {
    case "selftest": status = runSelftest(arguments)
    case "dirtree": status = runDirtree(arguments)
    case "postmark": status = runPostmark(arguments)
    case "latency": status = runLatency(arguments)
    default:
        print("unknown app '\(app)': expected selftest, dirtree, postmark or latency")
        return 2
    }
    // Like an exiting process: what the filesystems still hold reaches the host before QEMU stops.
    do { try Posix.sync() } catch {
        print("sync at exit failed: \(error.name)")
        return status == 0 ? 1 : status
    }
    return status
}
