// Where a synchronous request's time goes on the guest side, for benchmark
// reports: building the chain and kicking the device (`submit`, of which the
// write to the notify register is `kick`), then polling until the used ring
// shows the reply (`wait`). The daemon's work lands in `kick` when it runs
// while the guest's write is still being handled (TCG), else in `wait`.
// Means are spoiled by a shared host's scheduling stalls, so whole round
// trips (submit + wait) also go into 1 µs buckets for a median.

struct RoundTripStatistics {
    static let bucketCount = 1024   // 0 ..< 1,024 µs; longer round trips land in the last bucket
    private(set) var count: UInt64 = 0
    private(set) var submitNanoseconds: UInt64 = 0
    private(set) var waitNanoseconds: UInt64 = 0
    /// Notifications written to the device's notify register (none when it asked us not to).
    private(set) var kicks: UInt64 = 0
    private(set) var kickNanoseconds: UInt64 = 0
    private var histogram = [UInt32](repeating: 0, count: RoundTripStatistics.bucketCount)

    /// `kick`: how long the notify write took, nil when there was none (or it was not timed).
    mutating func record(submit: UInt64, wait: UInt64, kick: UInt64?) {
        count &+= 1
        submitNanoseconds &+= submit
        waitNanoseconds &+= wait
        if let kick = kick { kicks &+= 1; kickNanoseconds &+= kick }
        let bucket = min(Int((submit &+ wait) / 1000), RoundTripStatistics.bucketCount - 1)
        histogram[bucket] &+= 1
    }

    mutating func reset() { self = RoundTripStatistics() }

    /// The time below which `fraction` of the round trips finished, to the microsecond.
    func quantileNanoseconds(_ fraction: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = UInt64(Double(count) * fraction)
        var seen: UInt64 = 0
        for (bucket, n) in histogram.enumerated() {
            seen += UInt64(n)
            if seen > rank { return UInt64(bucket) * 1000 + 500 }
        }
        return UInt64(RoundTripStatistics.bucketCount) * 1000
    }

    /// "round_trips=N median_ns=… p90_ns=… submit_ns=… kick_ns=… wait_ns=… kicks=…" (submit, kick, wait: means)
    var summary: String {
        guard count > 0 else { return "round_trips=0" }
        return "round_trips=\(count) round_trip_median_ns=\(quantileNanoseconds(0.5)) round_trip_p90_ns=\(quantileNanoseconds(0.9))"
            + " submit_ns=\(submitNanoseconds / count) kick_ns=\(kicks == 0 ? 0 : kickNanoseconds / kicks)"
            + " wait_ns=\(waitNanoseconds / count) kicks=\(kicks)"
    }
}
