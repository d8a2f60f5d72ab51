// Decimal output without Foundation or Double printing (not available in
// Embedded Swift): fixed-point text built from integers.

/// `value` with `decimals` digits after the point ("12.34").
func formatFixed(_ value: Double, decimals: Int = 2) -> String {
    guard value.isFinite else { return "inf" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let negative = value < 0
    let scaled = UInt64((negative ? -value : value) * scale + 0.5)
    let divisor = UInt64(scale)
    var text = negative ? "-" : ""
    text += String(scaled / divisor)
    if decimals > 0 {
        var fraction = String(scaled % divisor)
        while fraction.utf8.count < decimals { fraction = "0" + fraction }
        text += "." + fraction
    }
    return text
}

/// Events per second over an interval measured in nanoseconds.
func perSecond(_ count: Int, nanoseconds: UInt64) -> Double {
    guard nanoseconds > 0 else { return 0 }
    return Double(count) * 1e9 / Double(nanoseconds)
}

func seconds(_ nanoseconds: UInt64) -> String { formatFixed(Double(nanoseconds) / 1e9, decimals: 3) }

let bytesPerMegabyte = 1_048_576.0   // postmark's "megabyte"
