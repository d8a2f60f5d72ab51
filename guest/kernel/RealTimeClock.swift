// Wall-clock time: the CMOS RTC (QEMU sets it to the host's UTC time at
// start) read once at boot, advanced by the TSC. One-second resolution at
// boot, so use it for timestamps, not for measuring intervals.

private var bootUnixNanoseconds: UInt64 = 0

/// Nanoseconds since 1970-01-01 UTC.
func realtimeNanoseconds() -> UInt64 {
    bootUnixNanoseconds &+ monotonicNanoseconds()
}

/// Reads the RTC and anchors realtimeNanoseconds(); called once at boot.
func readRealTimeClockAtBoot() {
    // Two identical reads outside an update cycle give a consistent time.
    var previous = readRealTimeClockOnce()
    for _ in 0..<10 {
        let current = readRealTimeClockOnce()
        if current == previous { break }
        previous = current
    }
    let seconds = previous
    bootUnixNanoseconds = seconds &* 1_000_000_000 &- monotonicNanoseconds()
}

private func cmosRegister(_ index: UInt8) -> UInt8 {
    port_out8(0x70, index | 0x80)   // bit 7 keeps NMI disabled
    return port_in8(0x71)
}

private func readRealTimeClockOnce() -> UInt64 {
    var spins = 0
    while cmosRegister(0x0A) & 0x80 != 0 && spins < 1_000_000 { spins += 1 }   // update in progress
    let statusB = cmosRegister(0x0B)
    let isBinary = statusB & 0x04 != 0
    let is24Hour = statusB & 0x02 != 0
    func decode(_ raw: UInt8) -> UInt64 {
        isBinary ? UInt64(raw) : UInt64(raw & 0x0F) + UInt64(raw >> 4) * 10
    }
    let second = decode(cmosRegister(0x00))
    let minute = decode(cmosRegister(0x02))
    let rawHour = cmosRegister(0x04)
    var hour = decode(rawHour & 0x7F)
    if !is24Hour {
        hour %= 12
        if rawHour & 0x80 != 0 { hour += 12 }
    }
    let day = decode(cmosRegister(0x07))
    let month = decode(cmosRegister(0x08))
    var year = decode(cmosRegister(0x09))
    let century = decode(cmosRegister(0x32))
    year += century >= 19 && century <= 30 ? century * 100 : 2000
    return unixSeconds(year: year, month: month, day: day) + hour * 3600 + minute * 60 + second
}

/// Seconds from 1970-01-01 to the start of the given (proleptic Gregorian) day.
private func unixSeconds(year: UInt64, month: UInt64, day: UInt64) -> UInt64 {
    guard year >= 1970, month >= 1, month <= 12, day >= 1, day <= 31 else { return 0 }
    // Days from civil (shifting the year to start in March).
    let y = Int64(year) - (month <= 2 ? 1 : 0)
    let era = y / 400
    let yearOfEra = y - era * 400
    let m = Int64(month)
    let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    let days = era * 146_097 + dayOfEra - 719_468
    return UInt64(days) * 86_400
}
