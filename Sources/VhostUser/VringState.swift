/// What the front end has told us about one virtqueue, kept between
/// starts and stops. Descriptors are owned here (closed on replace/reset).
struct VringState {
    var size = 0
    var descriptorsAddress: UInt64 = 0
    var availableAddress: UInt64 = 0
    var usedAddress: UInt64 = 0
    var addressesSet = false
    /// SET_VRING_BASE, or where the last run stopped.
    var lastAvailableIndex: UInt16 = 0
    var kickFd: Int32 = -1
    var callFd: Int32 = -1
    var errFd: Int32 = -1
    /// A kick descriptor (or the no-fd flag) arrived and GET_VRING_BASE has not stopped it since.
    var started = false
    /// SET_VRING_ENABLE; meaningful only when protocol features were negotiated.
    var enabled = false
    var worker: QueueWorker?
}
