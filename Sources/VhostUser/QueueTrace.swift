import Glibc

/// Counts of where a queue's time goes on the daemon side, kept when the log
/// level is debug and logged when the queue stops: with the guest's own split
/// of a round trip (submit, wait) they show how much of the wait is the
/// daemon's work and how much the notification path.
struct QueueTrace {
    /// Kicks that woke the queue's thread.
    var wakeups: UInt64 = 0
    /// From the wakeup to the thread waiting again (eventfd read, every request, re-arming).
    var wakeupNanoseconds: UInt64 = 0
    var requests: UInt64 = 0
    /// From taking a chain to its reply on the used ring (walk, handle, push).
    var requestNanoseconds: UInt64 = 0
    /// The same per request in 1 µs buckets (the last takes everything longer): on a
    /// shared host a few descheduled requests dominate the mean, not the median.
    private var requestHistogram = [UInt32](repeating: 0, count: 1024)
    /// Call eventfd writes (guest interrupts asked for); counted whether or not tracing.
    var notifications: UInt64 = 0

    mutating func recordRequest(nanoseconds: UInt64) {
        requests &+= 1
        requestNanoseconds &+= nanoseconds
        requestHistogram[min(Int(nanoseconds / 1000), requestHistogram.count - 1)] &+= 1
    }

    /// The request time below which half the requests finished, to the microsecond.
    var medianRequestNanoseconds: UInt64 {
        var seen: UInt64 = 0
        for (bucket, n) in requestHistogram.enumerated() {
            seen += UInt64(n)
            if seen > requests / 2 { return UInt64(bucket) * 1000 + 500 }
        }
        return 0
    }

    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    var summary: String {
        let perRequest = requests == 0 ? 0 : requestNanoseconds / requests
        let perWakeup = wakeups == 0 ? 0 : wakeupNanoseconds / wakeups
        return "\(requests) requests, \(wakeups) wakeups, \(notifications) guest notifications; "
            + "per request (chain taken to reply pushed) mean \(perRequest) ns, median \(medianRequestNanoseconds) ns; "
            + "per wakeup (kick read to re-armed) mean \(perWakeup) ns"
    }
}
