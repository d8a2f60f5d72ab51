// C-callable file calls, so C code linked into the unikernel can use the VFS:
// the usual POSIX signatures with a swiftfs_ prefix, returning -errno on failure
// (the Linux system call convention) instead of setting errno.
//
//   int     swiftfs_open(const char *path, int flags, unsigned mode);
//   int     swiftfs_close(int fd);
//   ssize_t swiftfs_read(int fd, void *buf, size_t count);
//   ssize_t swiftfs_write(int fd, const void *buf, size_t count);
//   ssize_t swiftfs_pread(int fd, void *buf, size_t count, off_t offset);
//   ssize_t swiftfs_pwrite(int fd, const void *buf, size_t count, off_t offset);
//   off_t   swiftfs_lseek(int fd, off_t offset, int whence);
//   int     swiftfs_stat(const char *path, struct stat *st);   // Linux x86_64 struct stat, 144 bytes
//   int     swiftfs_fstat(int fd, struct stat *st);
//   int     swiftfs_ftruncate(int fd, off_t size);
//   int     swiftfs_fsync(int fd);
//   int     swiftfs_mkdir(const char *path, unsigned mode);
//   int     swiftfs_rmdir(const char *path);
//   int     swiftfs_unlink(const char *path);
//   int     swiftfs_rename(const char *from, const char *to);
//   int     swiftfs_opendir(const char *path);                 // a descriptor
//   int     swiftfs_readdir(int dirfd, char name[256], uint64_t *ino, unsigned char *d_type); // 1, 0 at end, -errno
//   int     swiftfs_closedir(int dirfd);

private func negated(_ error: Errno) -> Int32 { -error.rawValue }

private func cPath(_ path: UnsafePointer<CChar>?) throws(Errno) -> String {
    guard let path = path else { throw .EINVAL }
    return String(cString: path)
}

/// Runs `body`, mapping a thrown Errno to -errno.
private func cCall(_ body: () throws(Errno) -> Int) -> Int {
    do { return try body() } catch { return Int(negated(error)) }
}

@_cdecl("swiftfs_open")
func swiftfs_open(_ path: UnsafePointer<CChar>?, _ flags: Int32, _ mode: UInt32) -> Int32 {
    Int32(cCall { () throws(Errno) -> Int in Int(try Posix.open(try cPath(path), OpenFlags(rawValue: flags), permissions: mode)) })
}

@_cdecl("swiftfs_close")
func swiftfs_close(_ fd: Int32) -> Int32 {
    Int32(cCall { () throws(Errno) -> Int in try Posix.close(fd); return 0 })
}

@_cdecl("swiftfs_read")
func swiftfs_read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    cCall { () throws(Errno) -> Int in
        guard count >= 0, buffer != nil || count == 0 else { throw .EINVAL }
        return try Posix.read(fd, into: UnsafeMutableRawBufferPointer(start: buffer, count: count))
    }
}

@_cdecl("swiftfs_write")
func swiftfs_write(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    cCall { () throws(Errno) -> Int in
        guard count >= 0, buffer != nil || count == 0 else { throw .EINVAL }
        return try Posix.write(fd, UnsafeRawBufferPointer(start: buffer, count: count))
    }
}

@_cdecl("swiftfs_pread")
func swiftfs_pread(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: Int) -> Int {
    cCall { () throws(Errno) -> Int in
        guard count >= 0, buffer != nil || count == 0 else { throw .EINVAL }
        return try Posix.pread(fd, into: UnsafeMutableRawBufferPointer(start: buffer, count: count), at: offset)
    }
}

@_cdecl("swiftfs_pwrite")
func swiftfs_pwrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ offset: Int) -> Int {
    cCall { () throws(Errno) -> Int in
        guard count >= 0, buffer != nil || count == 0 else { throw .EINVAL }
        return try Posix.pwrite(fd, UnsafeRawBufferPointer(start: buffer, count: count), at: offset)
    }
}

@_cdecl("swiftfs_lseek")
func swiftfs_lseek(_ fd: Int32, _ offset: Int, _ whence: Int32) -> Int {
    cCall { () throws(Errno) -> Int in
        guard let origin = SeekOrigin(rawValue: whence) else { throw .EINVAL }
        return try Posix.lseek(fd, offset, origin)
    }
}

/// Fills a Linux x86_64 `struct stat` (144 bytes).
private func storeLinuxStat(_ stat: FileStat, into buffer: UnsafeMutableRawPointer?) throws(Errno) {
    guard let buffer = buffer else { throw .EINVAL }
    buffer.initializeMemory(as: UInt8.self, repeating: 0, count: 144)
    buffer.storeBytes(of: UInt64(0), toByteOffset: 0, as: UInt64.self)               // st_dev
    buffer.storeBytes(of: stat.inode, toByteOffset: 8, as: UInt64.self)              // st_ino
    buffer.storeBytes(of: UInt64(stat.linkCount), toByteOffset: 16, as: UInt64.self) // st_nlink
    buffer.storeBytes(of: stat.mode, toByteOffset: 24, as: UInt32.self)              // st_mode
    buffer.storeBytes(of: Int64(stat.size), toByteOffset: 48, as: Int64.self)        // st_size
    buffer.storeBytes(of: Int64(stat.blockSize), toByteOffset: 56, as: Int64.self)  // st_blksize
    buffer.storeBytes(of: Int64(clamping: stat.blocks), toByteOffset: 64, as: Int64.self) // st_blocks (server's u64)
    let times = [stat.accessTime, stat.modificationTime, stat.changeTime]
    for (index, time) in times.enumerated() {                                        // st_atim, st_mtim, st_ctim
        buffer.storeBytes(of: time.seconds, toByteOffset: 72 + index * 16, as: Int64.self)
        buffer.storeBytes(of: Int64(time.nanoseconds), toByteOffset: 80 + index * 16, as: Int64.self)
    }
}

@_cdecl("swiftfs_stat")
func swiftfs_stat(_ path: UnsafePointer<CChar>?, _ buffer: UnsafeMutableRawPointer?) -> Int32 {
    Int32(cCall { () throws(Errno) -> Int in try storeLinuxStat(try Posix.stat(try cPath(path)), into: buffer); return 0 })
}

@_cdecl("swiftfs_fstat")
func swiftfs_fstat(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?) -> Int32 {
    Int32(cCall { () throws(Errno) -> Int in try storeLinuxStat(try Posix.fstat(fd), into: buffer); return 0 })
}

@_cdecl("swiftfs_ftruncate")
func swiftfs_ftruncate(_ fd: Int32, _ size: Int) -> Int32 {
    Int32(cCall { () throws(Errno) -> Int in try Posix.ftruncate(fd, size); return 0 })
}

@_cdecl("swiftfs_fsync")
func swiftfs_fsync(_ fd: Int32) -> Int32 {
    Int32(cCall { () throws(Errno) -> Int in try Posix.fsync(fd); return 0 })
}

@_cdecl("swiftfs_mkdir")
func swiftfs_mkdir(_ path: UnsafePointer<CChar>?, _ mode: UInt32) -> Int32 {
    Int32(cCall { () throws(Errno) -> Int in try Posix.mkdir(try cPath(path), permissions: mode); return 0 })
}

@_cdecl("swiftfs_rmdir")
func swiftfs_rmdir(_ path: UnsafePointer<CChar>?) -> Int32 {
    Int32(cCall { () throws(Errno) -> Int in try Posix.rmdir(try cPath(path)); return 0 })
}

@_cdecl("swiftfs_unlink")
func swiftfs_unlink(_ path: UnsafePointer<CChar>?) -> Int32 {
    Int32(cCall { () throws(Errno) -> Int in try Posix.unlink(try cPath(path)); return 0 })
}

@_cdecl("swiftfs_rename")
func swiftfs_rename(_ from: UnsafePointer<CChar>?, _ to: UnsafePointer<CChar>?) -> Int32 {
    Int32(cCall { () throws(Errno) -> Int in try Posix.rename(try cPath(from), try cPath(to)); return 0 })
}

@_cdecl("swiftfs_opendir")
func swiftfs_opendir(_ path: UnsafePointer<CChar>?) -> Int32 {
    Int32(cCall { () throws(Errno) -> Int in Int(try Posix.opendir(try cPath(path))) })
}

@_cdecl("swiftfs_readdir")
func swiftfs_readdir(_ fd: Int32, _ name: UnsafeMutablePointer<CChar>?, _ inode: UnsafeMutablePointer<UInt64>?,
                     _ type: UnsafeMutablePointer<UInt8>?) -> Int32 {
    Int32(cCall { () throws(Errno) -> Int in
        guard let name = name else { throw .EINVAL }
        guard let entry = try Posix.readdir(fd) else { return 0 }
        var length = 0
        for byte in entry.name.utf8 where length < 255 {
            name[length] = CChar(bitPattern: byte)
            length += 1
        }
        name[length] = 0
        inode?.pointee = entry.inode
        type?.pointee = UInt8(LinuxFileMode.direntType(entry.kind.modeBits))   // DT_DIR, DT_REG, DT_UNKNOWN
        return 1
    })
}

@_cdecl("swiftfs_closedir")
func swiftfs_closedir(_ fd: Int32) -> Int32 {
    Int32(cCall { () throws(Errno) -> Int in try Posix.closedir(fd); return 0 })
}
