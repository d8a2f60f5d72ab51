// The guest's FUSE client (guest/fs, built for the host as GuestFileSystem) against
// the real FuseServer + PassthroughFileSystem on temporary directories, in-process.
// The guest VFS and descriptor table are process-wide and single-threaded, as in the
// unikernel: every suite in here nests in this one and runs serialized.

import Foundation
import Glibc
@testable import GuestFileSystem
import Testing

@Suite(.serialized) enum GuestClient {}

/// The errno `body` fails with, nil when it succeeds. (Untyped: closures passed here
/// are inferred as throwing any Error; the guest's calls throw only Errno.)
func failure<T>(_ body: () throws -> T) -> Errno? {
    do {
        _ = try body()
        return nil
    } catch let error as Errno {
        return error
    } catch {
        Issue.record("not an Errno: \(error)")
        return nil
    }
}

/// The contents of a host file (nil if unreadable).
func hostBytes(_ path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map { [UInt8]($0) }
}

/// Creates or replaces a host file (plain open/write: FileManager's atomic writes are slow for thousands).
func writeHostFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0, "cannot create \(path)")
    defer { close(fd) }
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    precondition(written == bytes.count, "short write to \(path)")
}

func hostStat(_ path: String) -> stat? {
    var result = stat()
    return lstat(path, &result) == 0 ? result : nil
}

func hostExists(_ path: String) -> Bool { hostStat(path) != nil }

/// Bytes with a period that no power-of-two block size divides, so misplaced blocks show.
func pattern(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 % 251) &+ seed }
}

/// Reads a guest descriptor to its end.
func readToEnd(_ descriptor: Int32) throws(Errno) -> [UInt8] {
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 10_000)
    while true {
        let count = try Posix.read(descriptor, into: &chunk)
        if count == 0 { return result }
        result.append(contentsOf: chunk[0..<count])
    }
}
