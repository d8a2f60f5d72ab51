/// What a transport (virtqueue, /dev/fuse) hands requests to. The transport
/// owns the memory behind both views; the handler decodes the request from
/// `request`, writes the complete reply (fuse_out_header first) into
/// `reply`, and returns the reply length in bytes, or 0 when the request
/// takes no reply (FORGET, BATCH_FORGET) or the request was dropped.
///
/// Called concurrently from several worker threads.
public protocol FuseRequestHandler: Sendable {
    func handle(request: inout ScatterReader, reply: inout ScatterWriter) -> Int
}
