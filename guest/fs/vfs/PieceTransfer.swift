// Reads and writes larger than a server takes in one request (FUSE's max_read and
// max_write, 9P's msize) go in pieces, each sent as soon as the previous one is done.

/// Moves `count` bytes in pieces of at most `limit`: `transfer` sends the request for one
/// range of the caller's buffer and returns how many bytes the server moved. Stops after a
/// short piece (end of file, or a server that took less); a piece larger than asked for is
/// EIO. `done` counts the bytes moved, also when a later piece fails.
func transferInPieces(count: Int, limit: Int, done: inout Int,
                      _ transfer: (Range<Int>) throws(Errno) -> Int) throws(Errno) {
    while done < count {
        let piece = done..<done + min(count - done, limit)
        let moved = try transfer(piece)
        guard moved <= piece.count else { throw .EIO }
        done += moved
        if moved < piece.count { break }
    }
}
