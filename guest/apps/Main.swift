// Entry point from the kernel into the applications. The kernel calls this once,
// after devices are up, with the kernel command line; the return value becomes
// QEMU's exit status (0 = success).
func applicationMain(commandLine: String) -> Int32 {
    print("swiftfs guest: command line '\(commandLine)'")
    return 0
}
