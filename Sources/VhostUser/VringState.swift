import SystemSupport

/// The eventfds of one virtqueue (SET_VRING_KICK/CALL/ERR); nil when the
/// front end sent none. Whoever holds this value owns them: the vring while
/// the queue is stopped, its worker while it runs. Replacing or dropping one
/// closes it, so each is closed exactly once.
struct VringDescriptors: ~Copyable {
    var kick: OwnedDescriptor? = nil
    var call: OwnedDescriptor? = nil
    var err: OwnedDescriptor? = nil

    /// Moves all three out, leaving none here.
    mutating func take() -> VringDescriptors {
        VringDescriptors(kick: kick.take(), call: call.take(), err: err.take())
    }
}

/// What the front end has told us about one virtqueue, kept between
/// starts and stops. A class because it owns descriptors (noncopyable).
final class VringState<Device: VirtioDeviceHandler> {
    var size = 0
    var descriptorsAddress: UInt64 = 0
    var availableAddress: UInt64 = 0
    var usedAddress: UInt64 = 0
    var addressesSet = false
    /// SET_VRING_BASE, or where the last run stopped.
    var lastAvailableIndex: UInt16 = 0
    /// Empty while `worker` runs: it holds them.
    var descriptors = VringDescriptors()
    /// A kick descriptor (or the no-fd flag) arrived and GET_VRING_BASE has not stopped it since.
    var started = false
    /// SET_VRING_ENABLE; meaningful only when protocol features were negotiated.
    var enabled = false
    var worker: QueueWorker<Device>?
}
