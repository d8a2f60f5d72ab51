// Ending the run. With `-device isa-debug-exit,iobase=0xf4,iosize=0x04`,
// writing code N makes QEMU exit with status (N << 1) | 1. Convention
// (scripts/run-guest translates it back):
//   application status s in 0...63 -> code 0x10 + s -> QEMU status 33 + 2s
//   kernel panic / CPU exception   -> code 0x60     -> QEMU status 193
// QEMU status 0 means the guest reset (triple fault with -no-reboot).

/// Exits QEMU with the application's status (0 = success; clamped to 0...63).
func exitQEMU(status: Int32) -> Never {
    let clamped = status < 0 || status > 63 ? 63 : UInt8(status)
    qemu_debug_exit(0x10 + clamped)
}

/// Exits QEMU with success (status 0) or failure (status 1).
func exitQEMU(success: Bool) -> Never {
    exitQEMU(status: success ? 0 : 1)
}

/// Prints `message` and exits QEMU with the kernel-panic code.
func kernelPanic(_ message: String) -> Never {
    print("KERNEL PANIC: \(message)")
    qemu_debug_exit(0x60)
}
