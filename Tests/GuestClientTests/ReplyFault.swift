// What a faulty device or server does to a correct reply from the real server:
// the guest client must turn each into EIO for the call that sent the request.

@testable import GuestFileSystem
import Testing

enum ReplyFault: CaseIterable, CustomTestStringConvertible {
    /// Fewer bytes than a fuse_out_header.
    case shorterThanHeader
    /// The body cut after 4 bytes (shorter than any reply record), out.len patched to match.
    case truncatedBody
    /// out.unique names another request.
    case wrongUnique
    /// out.len larger than the bytes written.
    case lengthAboveWritten
    /// out.len smaller than the bytes written.
    case lengthBelowWritten
    /// out.error positive (FUSE errors are negative errnos).
    case positiveError
    /// out.error below -4095, outside the errno range.
    case errorOutOfRange
    /// The device reports more bytes written than the chain's writable buffers hold.
    case claimsMoreThanBuffers
    /// The device gives the chain back with no reply at all (a broken device).
    case noReply
    /// A directory listing's first name becomes "/" (only READDIRPLUS replies carry names).
    case slashAsName

    /// Faults that only a directory listing's reply can carry.
    var onlyInListings: Bool { self == .slashAsName }

    var testDescription: String { "\(self)" }

    /// Applies the fault to the reply the server wrote into `writable` (`written` bytes);
    /// returns the byte count the device reports.
    func apply(toReplyIn writable: [DeviceBuffer], written: Int) -> Int? {
        // The client always gives the out header its own first buffer.
        let header = writable[0].base
        var out = header.loadUnaligned(as: FuseOutHeader.self)
        switch self {
        case .shorterThanHeader:
            return FuseOutHeader.wireSize / 2
        case .truncatedBody:
            let shortened = min(written, FuseOutHeader.wireSize + 4)
            out.len = UInt32(shortened)
            header.storeBytes(of: out, as: FuseOutHeader.self)
            return shortened
        case .wrongUnique:
            out.unique &+= 1
        case .lengthAboveWritten:
            out.len = UInt32(written + 8)
        case .lengthBelowWritten:
            out.len = UInt32(written - 1)
        case .positiveError:
            out.error = 5
        case .errorOutOfRange:
            out.error = -100_000
        case .claimsMoreThanBuffers:
            return writable.reduce(0) { $0 + $1.count } + 1
        case .noReply:
            return nil
        case .slashAsName:
            // The payload buffer holds fuse_entry_out, fuse_dirent, then the first name.
            let name = FuseEntryOut.wireSize + FuseDirent.wireSize
            guard writable.count > 1, written > FuseOutHeader.wireSize + name else { return written }
            writable[1].base.storeBytes(of: UInt8(ascii: "/"), toByteOffset: name, as: UInt8.self)
        }
        header.storeBytes(of: out, as: FuseOutHeader.self)
        return written
    }
}
