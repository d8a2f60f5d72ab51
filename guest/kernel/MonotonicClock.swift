// Time from the TSC, calibrated once at boot against PIT channel 2. Under TCG
// the guest TSC is the host's TSC and the PIT follows QEMU's virtual clock
// (host real time), so the result tracks wall time.

private let pitFrequency: UInt64 = 1_193_182
private let calibrationTicks: UInt64 = 11_932   // 10 ms of PIT ticks
/// Nanoseconds per TSC tick as a 32.32 fixed-point number.
private var nanosecondsPerTickQ32: UInt64 = 0
private var tscFrequency: UInt64 = 0

/// Nanoseconds since the kernel was entered; monotonic.
func monotonicNanoseconds() -> UInt64 {
    let ticks = cpu_rdtsc() &- boot_tsc_at_entry()
    let product = ticks.multipliedFullWidth(by: nanosecondsPerTickQ32)
    return product.high << 32 | product.low >> 32
}

/// The calibrated TSC frequency in Hz.
var timestampCounterFrequency: UInt64 { tscFrequency }

/// Measures the TSC over 10 ms of PIT channel 2 (one-shot mode 0, gate via
/// port 0x61, output readable in bit 5), three times; the shortest run has the
/// least overshoot.
func calibrateMonotonicClock() {
    var best = UInt64.max
    for _ in 0..<3 {
        let ticks = timestampTicksDuringPITCountdown()
        if ticks < best { best = ticks }
    }
    guard best > 0, best != UInt64.max else { kernelPanic("TSC calibration failed") }
    tscFrequency = best * pitFrequency / calibrationTicks
    nanosecondsPerTickQ32 = (1_000_000_000 << 32) / tscFrequency
}

private func timestampTicksDuringPITCountdown() -> UInt64 {
    // Gate high, speaker off.
    port_out8(0x61, (port_in8(0x61) & ~0x02) | 0x01)
    // Channel 2, low byte then high byte, mode 0, binary.
    port_out8(0x43, 0xB0)
    port_out8(0x42, UInt8(truncatingIfNeeded: calibrationTicks))
    port_out8(0x42, UInt8(truncatingIfNeeded: calibrationTicks >> 8))
    let start = cpu_rdtsc()
    var spins = 0
    while port_in8(0x61) & 0x20 == 0 {
        spins += 1
        if spins > 100_000_000 { kernelPanic("PIT channel 2 never counted down") }
    }
    return cpu_rdtsc() &- start
}
