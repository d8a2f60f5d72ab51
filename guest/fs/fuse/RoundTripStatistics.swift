// Where a synchronous request's time goes on the guest side, for benchmark
// reports: building the chain and kicking the device (`submit`, of which the
// write to the notify register is `kick`), then polling until the used ring
// shows the reply (`wait`). The daemon's work lands in `kick` when it runs
// while the guest's write is still being handled (TCG), else in `wait`. Means are spoiled by a shared host's scheduling stalls,
// so waits also go into 1 µs buckets for a median.

struct RoundTripStatistics {
    static let bucketCount = 1024   // 0 ..< 1,024 µs; longer waits land in the last bucket
    private(set) var count: UInt64 = 0
    private(set) var submitNanoseconds: UInt64 = 0
    private(set) var waitNanoseconds: UInt64 = 0
    /// Notifications written to the device's notify register (none when it asked us not to).
    private(set) var kicks: UInt64 = 0
    private(set) var kickNanoseconds: UInt64 = 0
    private var waitHistogram = [UInt32](repeating: 0, count: RoundTripStatistics.bucketCount)

    /// `kick`: how long the notify write took, nil when there was none (or it was not timed).
    mutating func record(submit: UInt64, wait: UInt64, kick: UInt64?) {
        count &+= 1
        submitNanoseconds &+= submit
        waitNanoseconds &+= wait
        if let kick = kick { kicks &+= 1; kickNanoseconds &+= kick }
        let bucket = min(Int(wait / 1000), RoundTripStatistics.bucketCount - 1)
        waitHistogram[bucket] &+= 1
    }

    mutating func reset() { self = RoundTripStatistics() }

    /// The wait below which `fraction` of the round trips finished, to the microsecond.
    func waitQuantileNanoseconds(_ fraction: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = UInt64(Double(count) * fraction)
        var seen: UInt64 = 0
        for (bucket, n) in waitHistogram.enumerated() {
            seen += UInt64(n)
            if seen > rank { return UInt64(bucket) * 1000 + 500 }
        }
        return UInt64(RoundTripStatistics.bucketCount) * 1000
    }

    /// "round_trips=N submit_ns=… wait_ns=… wait_median_ns=… wait_p90_ns=… kicks=… kick_ns=…"
    var summary: String {
        guard count > 0 else { return "round_trips=0" }
        return "round_trips=\(count) submit_ns=\(submitNanoseconds / count) wait_ns=\(waitNanoseconds / count)"
            + " wait_median_ns=\(waitQuantileNanoseconds(0.5)) wait_p90_ns=\(waitQuantileNanoseconds(0.9))"
            + " kicks=\(kicks) kick_ns=\(kicks == 0 ? 0 : kickNanoseconds / kicks)"
    }
}
