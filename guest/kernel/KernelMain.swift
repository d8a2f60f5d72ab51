// The Swift side of boot: guest/boot/early.c has set up the console, the
// exception handlers and the heap, then calls here. We calibrate the clock,
// find the virtio-fs and virtio-9p devices and run the application named by the first word
// of the command line ("app=" optional). Names starting with "kernel." are the kernel's own
// self-checks (KernelSelfChecks.swift); everything else goes to
// applicationMain(commandLine:) in guest/apps. Its return value becomes the
// exit status (see QEMUExit.swift).

@_cdecl("swiftfs_kernel_main")
func kernelMain() -> Never {
    calibrateMonotonicClock()
    readRealTimeClockAtBoot()
    let commandLine = String(cString: boot_command_line())
    print("swiftfs kernel: \(boot_usable_ram_bytes() >> 20) MiB RAM, heap \(heap_total_bytes() >> 20) MiB, TSC \(timestampCounterFrequency / 1_000_000) MHz")

    let functions = enumeratePCIFunctions()
    virtioFSDevices = discoverVirtioFSDevices(in: functions)
    ivshmemWindows = discoverIVShmemWindows(in: functions)
    for window in ivshmemWindows {
        print("swiftfs kernel: ivshmem \(window.location) BAR \(IVShmem.memoryBAR): \(window.memory.count >> 20) MiB shared memory")
    }
    // One daemon shares one ivshmem window: it goes to the first virtio-fs device; the FUSE
    // session uses it only if that daemon grants DAX (FUSE_MAP_ALIGNMENT) at INIT.
    if let window = ivshmemWindows.first, let device = virtioFSDevices.first { device.attach(window) }
    for device in virtioFSDevices {
        let window = device.cacheWindow.map { " DAX window \($0.count >> 20) MiB (\(device.cacheWindowSource))" } ?? ""
        print("swiftfs kernel: virtio-fs \(device.location) tag '\(device.tag)', \(device.requestQueueCount) request queue(s) of \(device.queueSize)\(window)")
    }
    virtioNinePDevices = discoverVirtioNinePDevices(in: functions)
    for device in virtioNinePDevices {
        print("swiftfs kernel: virtio-9p \(device.location) tag '\(device.tag)', queue of \(device.queueSize)")
    }
    print("swiftfs kernel: ready after \(monotonicNanoseconds() / 1_000) us; running '\(commandLine)'")

    var application = firstWord(of: commandLine)
    if application.hasPrefix("app=") { application = String(application.dropFirst(4)) }
    if application.hasPrefix("kernel.") {
        exitQEMU(status: runKernelSelfCheck(named: application))
    }
    let status = applicationMain(commandLine: commandLine)
    print("swiftfs kernel: application exited with status \(status) after \(monotonicNanoseconds() / 1_000_000) ms")
    exitQEMU(status: status)
}

private func firstWord(of text: String) -> String {
    var word: [UInt8] = []
    for byte in text.utf8 {
        if byte == UInt8(ascii: " ") {
            if word.isEmpty { continue } else { break }
        }
        word.append(byte)
    }
    return String(decoding: word, as: UTF8.self)
}
