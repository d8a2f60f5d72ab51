// A checked reply: the out header matched the request and reported success.

struct FuseReply {
    /// The fixed part after fuse_out_header, limited to the bytes the device wrote.
    var reader: ByteReader
    /// Bytes the device wrote into the separate payload buffer (READ data, READDIR records).
    var payloadCount: Int

    /// The next record, or EIO when the reply is too short: a short reply never traps.
    mutating func read<T: WireRecord>(_: T.Type) throws(Errno) -> T {
        guard let value = reader.read(T.self) else { throw .EIO }
        return value
    }
}

/// fuse_out_header.error carries a negative Linux errno; anything else is a protocol error.
func errnoFromFuse(_ error: Int32) -> Errno {
    guard error < 0, error > -4096 else { return .EIO }
    return Errno(-error)
}
