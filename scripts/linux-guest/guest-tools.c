/*
 * guest-tools: the file-system calls fs-check.sh needs that busybox lacks. Built static
 * (gcc -static -O2) into the Linux test guest; it also runs on the host, where run-check uses it to
 * regenerate the guest's data patterns for byte-for-byte comparison.
 *
 * Each subcommand is one self-contained check: it prints what went wrong on stderr and exits 1, or
 * exits 0. Usage: guest-tools CMD ARGS... (run without arguments for the list).
 *
 * Locks are checked between two processes with separate open file descriptions (a forked child opens
 * the file itself), because that is what a second program in the guest would see.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

static const char *cmd_name = "guest-tools";

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cmd_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* CHECK(cond, fmt, ...): fail with a message (and errno text when errno is set) unless cond holds. */
#define CHECK(cond, ...)                                                                            \
    do {                                                                                            \
        errno = 0;                                                                                  \
        if (!(cond)) {                                                                              \
            int e_ = errno;                                                                         \
            fprintf(stderr, "%s: line %d: check failed: %s", cmd_name, __LINE__, #cond);            \
            if (e_) fprintf(stderr, " (errno %d %s)", e_, strerror(e_));                            \
            fputs(": ", stderr);                                                                    \
            fprintf(stderr, __VA_ARGS__);                                                           \
            fputc('\n', stderr);                                                                    \
            exit(1);                                                                                \
        }                                                                                           \
    } while (0)

/* errno must be evaluated right after the call, so syscalls are wrapped in these. */
#define SYS(call) ({ errno = 0; long r_ = (long)(call); if (r_ < 0) fail("line %d: %s: %s", __LINE__, #call, strerror(errno)); r_; })
#define EXPECT_ERR(call, ...) ({ errno = 0; long e_r_ = (long)(call); expect_err_(e_r_, errno, #call, __LINE__, __VA_ARGS__, 0); })

/* Fails unless the call failed with one of the listed errnos (0-terminated list). */
static void expect_err_(long r, int err, const char *what, int line, ...) {
    va_list ap;
    int want;
    if (r >= 0) fail("line %d: %s succeeded, expected it to fail", line, what);
    va_start(ap, line);
    while ((want = va_arg(ap, int)) != 0)
        if (err == want) { va_end(ap); return; }
    va_end(ap);
    fail("line %d: %s failed with errno %d (%s), not the expected error", line, what, err, strerror(err));
}

/* --- deterministic data pattern: splitmix64 of (seed, 8-byte word index), little endian ------------- */
static uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void fill_pattern(unsigned char *buf, uint64_t off, size_t len, uint64_t seed) {
    for (size_t i = 0; i < len; i++) {
        uint64_t pos = off + i;
        buf[i] = (unsigned char)(mix(seed * 0x100000001b3ULL ^ (pos >> 3)) >> (8 * (pos & 7)));
    }
}

static uint64_t num(const char *s) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end) fail("not a number: %s", s);
    return v;
}

static void write_all(int fd, const void *buf, size_t len, off_t off) {
    const char *p = buf;
    while (len) {
        ssize_t n = SYS(pwrite(fd, p, len, off));
        CHECK(n > 0, "pwrite made no progress");
        p += n, len -= (size_t)n, off += n;
    }
}

static size_t read_full(int fd, void *buf, size_t len, off_t off) {
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = SYS(pread(fd, p + got, len - got, off + (off_t)got));
        if (n == 0) break;
        got += (size_t)n;
    }
    return got;
}

/* pattern FILE SIZE SEED [CHUNK]: write SIZE bytes of the pattern in CHUNK-sized writes. */
static int cmd_pattern(int argc, char **argv) {
    if (argc < 4) fail("usage: pattern FILE SIZE SEED [CHUNK]");
    uint64_t size = num(argv[2]), seed = num(argv[3]), chunk = argc > 4 ? num(argv[4]) : 65536;
    unsigned char *buf = malloc(chunk);
    int fd = SYS(open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644));
    for (uint64_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        fill_pattern(buf, off, n, seed);
        write_all(fd, buf, n, (off_t)off);
    }
    SYS(close(fd));
    return 0;
}

/* verify FILE SIZE SEED [CHUNK]: the file holds exactly SIZE bytes of the pattern (read with read()). */
static int cmd_verify(int argc, char **argv) {
    if (argc < 4) fail("usage: verify FILE SIZE SEED [CHUNK]");
    uint64_t size = num(argv[2]), seed = num(argv[3]), chunk = argc > 4 ? num(argv[4]) : 65536;
    unsigned char *buf = malloc(chunk + 1), *want = malloc(chunk);
    int fd = SYS(open(argv[1], O_RDONLY));
    struct stat st;
    SYS(fstat(fd, &st));
    CHECK((uint64_t)st.st_size == size, "%s: size %lld, expected %" PRIu64, argv[1], (long long)st.st_size, size);
    uint64_t off = 0;
    for (;;) {
        ssize_t n = SYS(read(fd, buf, chunk));
        if (n == 0) break;
        CHECK(off + (uint64_t)n <= size, "%s: more data than expected", argv[1]);
        fill_pattern(want, off, (size_t)n, seed);
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != want[i])
                fail("%s: byte %" PRIu64 " is 0x%02x, expected 0x%02x", argv[1], off + (uint64_t)i, buf[i], want[i]);
        off += (uint64_t)n;
    }
    CHECK(off == size, "%s: read %" PRIu64 " bytes, expected %" PRIu64, argv[1], off, size);
    SYS(close(fd));
    return 0;
}

/* direct-io (the daemon answers OPEN with FOPEN_DIRECT_IO): Linux before 6.6, or a daemon that does not
 * grant FUSE_DIRECT_IO_ALLOW_MMAP, refuses MAP_SHARED of such a file with ENODEV (the kernel cannot keep a
 * shared mapping coherent without a page cache). Only that error is accepted, and said on stdout. */
static int shared_refused(int argc, char **argv, void *p) {
    if (p != MAP_FAILED || argc < 5 || strcmp(argv[4], "direct-io") != 0 || errno != ENODEV) return 0;
    printf("%s %s: MAP_SHARED refused with ENODEV (FOPEN_DIRECT_IO without FUSE_DIRECT_IO_ALLOW_MMAP)\n",
           cmd_name, argv[1]);
    return 1;
}

/* mmap-read FILE SIZE SEED [direct-io]: a shared and a private read-only mapping both show the pattern
 * (direct-io: a shared mapping may be refused, see shared_refused). */
static int cmd_mmap_read(int argc, char **argv) {
    if (argc < 4) fail("usage: mmap-read FILE SIZE SEED [direct-io]");
    uint64_t size = num(argv[2]), seed = num(argv[3]);
    unsigned char *want = malloc(size);
    fill_pattern(want, 0, size, seed);
    int fd = SYS(open(argv[1], O_RDONLY));
    int flags[2] = {MAP_SHARED, MAP_PRIVATE};
    for (int k = 0; k < 2; k++) {
        errno = 0;
        unsigned char *p = mmap(NULL, size, PROT_READ, flags[k], fd, 0);
        if (k == 0 && shared_refused(argc, argv, p)) continue;
        CHECK(p != MAP_FAILED, "mmap %s", k ? "private" : "shared");
        for (uint64_t i = 0; i < size; i++)
            if (p[i] != want[i]) fail("mapped byte %" PRIu64 " is 0x%02x, expected 0x%02x", i, p[i], want[i]);
        SYS(munmap(p, size));
    }
    SYS(close(fd));
    return 0;
}

/* mmap-write FILE SIZE SEED [direct-io]: fill a new file through a shared writable mapping, msync, read it
 * back (direct-io: if the mapping is refused, see shared_refused, FILE is removed and FILE.refused made,
 * which tells verify-share there is nothing to compare). */
static int cmd_mmap_write(int argc, char **argv) {
    if (argc < 4) fail("usage: mmap-write FILE SIZE SEED [direct-io]");
    uint64_t size = num(argv[2]), seed = num(argv[3]);
    int fd = SYS(open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644));
    SYS(ftruncate(fd, (off_t)size));
    errno = 0;
    unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (shared_refused(argc, argv, p)) {
        SYS(close(fd));
        SYS(unlink(argv[1]));
        char marker[4096];
        snprintf(marker, sizeof marker, "%s.refused", argv[1]);
        SYS(close(SYS(open(marker, O_WRONLY | O_CREAT | O_TRUNC, 0644))));
        return 0;
    }
    CHECK(p != MAP_FAILED, "mmap shared writable");
    fill_pattern(p, 0, size, seed);
    SYS(msync(p, size, MS_SYNC));
    SYS(munmap(p, size));
    SYS(close(fd));
    char *args[] = {argv[0], argv[1], argv[2], argv[3], NULL};
    return cmd_verify(4, args);
}

/* parallel-write FILE SIZE SEED WRITERS: FILE is sized first, so no write extends it (on a file opened
 * FOPEN_DIRECT_IO with FOPEN_PARALLEL_DIRECT_WRITES the kernel then sends them under a shared inode lock,
 * several in flight at once); then WRITERS processes, each with its own open, pwrite every WRITERS-th
 * 64 KiB piece of the pattern at the same time, and the whole file is read back. */
static int cmd_parallel_write(int argc, char **argv) {
    if (argc < 5) fail("usage: parallel-write FILE SIZE SEED WRITERS");
    uint64_t size = num(argv[2]), seed = num(argv[3]), writers = num(argv[4]);
    const uint64_t piece = 65536;
    CHECK(writers >= 1 && writers <= 64, "WRITERS must be 1-64");
    int fd = SYS(open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644));
    SYS(ftruncate(fd, (off_t)size));
    SYS(close(fd));
    for (uint64_t w = 0; w < writers; w++) {
        if (SYS(fork()) != 0) continue;
        int wfd = open(argv[1], O_WRONLY);
        unsigned char *buf = malloc(piece);
        if (wfd < 0 || !buf) _exit(2);
        for (uint64_t off = w * piece; off < size; off += writers * piece) {
            size_t n = (size_t)(size - off < piece ? size - off : piece);
            fill_pattern(buf, off, n, seed);
            if (pwrite(wfd, buf, n, (off_t)off) != (ssize_t)n) _exit(3);
        }
        _exit(close(wfd) == 0 ? 0 : 4);
    }
    for (uint64_t w = 0; w < writers; w++) {
        int status;
        SYS(wait(&status));
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a writer failed (wait status 0x%x)", status);
    }
    char *args[] = {argv[0], argv[1], argv[2], argv[3], NULL};
    return cmd_verify(4, args);
}

/* sparse FILE: a write far beyond EOF leaves a hole that reads back as zeros. */
static int cmd_sparse(int argc, char **argv) {
    if (argc < 2) fail("usage: sparse FILE");
    const off_t at = 3 * 1024 * 1024 + 5;
    int fd = SYS(open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644));
    write_all(fd, "head", 4, 0);
    write_all(fd, "tail", 4, at);
    struct stat st;
    SYS(fstat(fd, &st));
    CHECK(st.st_size == at + 4, "size %lld", (long long)st.st_size);
    size_t len = (size_t)at + 4;
    char *buf = malloc(len);
    SYS(close(fd));
    fd = SYS(open(argv[1], O_RDONLY));
    CHECK(read_full(fd, buf, len, 0) == len, "short read");
    CHECK(memcmp(buf, "head", 4) == 0 && memcmp(buf + at, "tail", 4) == 0, "head/tail data wrong");
    for (off_t i = 4; i < at; i++)
        if (buf[i]) fail("hole byte %lld is 0x%02x", (long long)i, (unsigned char)buf[i]);
    SYS(close(fd));
    return 0;
}

/* --- large direct I/O -------------------------------------------------------------------------------- */
/* direct-io FILE SIZE SEED: FILE ends up holding SIZE bytes of the pattern (as `pattern` writes it: each
 * byte a function of its block index and offset in the block, that is of its file offset), written and
 * read back with O_DIRECT in 1 MiB blocks. A Linux FUSE client granted FUSE_ASYNC_DIO splits each block
 * into several requests (virtio-fs: 496 + 496 + 32 KiB) and sends them all before waiting, so the daemon
 * may serve them in any order and must put every piece at its own offset. In turn:
 *   write   blocks 0..n-11 (n = SIZE / 1 MiB) with pwrite, the last of them first (it sets the size, so
 *           the others overwrite inside the file and are not serialized as extending writes), then from
 *           both ends inwards;
 *   append  the last 10 blocks through O_DIRECT|O_APPEND, in writes of 1, 1, 4 and 4 blocks, the size
 *           checked before and after each: a 4 MiB append is split too (also where a request holds 1 MiB,
 *           as on a host FUSE mount), and each piece carries its offset while the daemon's file is
 *           O_APPEND, so pieces served out of order must still land at their own offsets;
 *   tail    the rest of SIZE: its 4 KiB-aligned part appended with O_DIRECT, the last bytes (< 4 KiB)
 *           with an ordinary write, so the size is not a multiple of 4096;
 *   read    with O_DIRECT: 1 MiB blocks from the last (a short read) to the first, and odd aligned
 *           chunks in turn (12 KiB, 508 KiB, 4 KiB, 4 MiB + 4 KiB); then without O_DIRECT through the
 *           page cache (dropped first with POSIX_FADV_DONTNEED, so the data comes from the daemon).
 *           Every read must return exactly the bytes up to EOF, and 0 at or past it.
 * Reads count mismatches instead of stopping at the first; a failed write stops. Prints a tally; exits 1
 * on any error. SIZE must be at least 11 MiB. */
enum { DIO_BLOCK = 1 << 20, DIO_ALIGN = 4096 };
static long dio_errors;
#define DIO_ERR(...) do { if (dio_errors++ < 5) { fprintf(stderr, "direct-io: "); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static void *aligned_alloc_or_fail(size_t len) {
    void *p = NULL;
    int e = posix_memalign(&p, DIO_ALIGN, len);
    if (e) fail("posix_memalign %zu: %s", len, strerror(e));
    return p;
}

/* Where the wrong bytes at file offset AT came from: the offset of the same 8-byte word in the expected
 * file (a piece put at the wrong offset), or none (stale, zero or poison bytes). */
static void dio_explain(const unsigned char *got, uint64_t at, const unsigned char *want, uint64_t size,
                        char *out, size_t outlen) {
    uint64_t word = at & ~(uint64_t)7;
    snprintf(out, outlen, "not pattern data");
    if (word + 8 > size) return;
    const unsigned char *w = got + (word - at);
    for (uint64_t p = 0; p + 8 <= size; p += 8)
        if (memcmp(want + p, w, 8) == 0) {
            snprintf(out, outlen, "the data of offset %" PRIu64 " (%+" PRId64 ")", p, (int64_t)(p - word));
            return;
        }
}

/* One pread of LEN bytes at OFF, compared with the expected file (WANT, SIZE bytes). */
static void dio_read_check(const char *how, int fd, unsigned char *buf, size_t len, uint64_t off,
                           const unsigned char *want, uint64_t size, long *reads) {
    size_t expect = off >= size ? 0 : size - off < len ? (size_t)(size - off) : len;
    memset(buf, 0xa5, len); /* poison: a piece nobody filled shows */
    (*reads)++;
    ssize_t n = pread(fd, buf, len, (off_t)off);
    if (n < 0) { DIO_ERR("%s: pread of %zu at %" PRIu64 ": %s", how, len, off, strerror(errno)); return; }
    if ((size_t)n != expect)
        DIO_ERR("%s: pread of %zu at %" PRIu64 " returned %zd, expected %zu", how, len, off, n, expect);
    size_t same = (size_t)n < expect ? (size_t)n : expect;
    if (memcmp(buf, want + off, same) == 0) return;
    size_t i = 0;
    while (buf[i] == want[off + i]) i++;
    size_t bad = 0;
    for (size_t j = i; j < same; j++) bad += buf[j] != want[off + j];
    char from[96];
    dio_explain(buf + i - (off + i) % 8, off + i - (off + i) % 8, want, size, from, sizeof from);
    DIO_ERR("%s: pread of %zu at %" PRIu64 ": %zu bytes differ, the first at %" PRIu64 " (block %" PRIu64
            " + %" PRIu64 ") is 0x%02x, expected 0x%02x; its word is %s", how, len, off, bad, off + i,
            (off + i) / DIO_BLOCK, (off + i) % DIO_BLOCK, buf[i], want[off + i], from);
}

static void dio_expect_size(int fd, uint64_t size, const char *when) {
    struct stat st;
    SYS(fstat(fd, &st));
    CHECK((uint64_t)st.st_size == size, "size %lld %s, expected %" PRIu64, (long long)st.st_size, when, size);
}

static int cmd_direct_io(int argc, char **argv) {
    if (argc < 4) fail("usage: direct-io FILE SIZE SEED");
    const char *f = argv[1];
    uint64_t size = num(argv[2]), seed = num(argv[3]);
    CHECK(size >= 11 * DIO_BLOCK, "SIZE %" PRIu64 " is less than 11 MiB", size);
    static const uint64_t appends[] = {1, 1, 4, 4}; /* blocks per O_APPEND write */
    uint64_t blocks = size / DIO_BLOCK, placed = blocks - 10, tail = size % DIO_BLOCK;
    uint64_t tail_direct = tail & ~(uint64_t)(DIO_ALIGN - 1);
    static const size_t chunks[] = {3 * 4096, 508 * 1024, 4096, 4 * DIO_BLOCK + 4096};
    unsigned char *want = aligned_alloc_or_fail(size), *buf = aligned_alloc_or_fail(5 * DIO_BLOCK);
    fill_pattern(want, 0, size, seed);
    long writes = 0, direct_reads = 0, chunk_reads = 0, cached_reads = 0;

    /* write: the last placed block, then from both ends inwards (n-3, 0, n-4, 1, ...). */
    int fd = SYS(open(f, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0644));
    for (uint64_t i = 0; i < placed; i++) {
        uint64_t b = i % 2 == 0 ? placed - 1 - i / 2 : i / 2;
        ssize_t n = SYS(pwrite(fd, want + b * DIO_BLOCK, DIO_BLOCK, (off_t)(b * DIO_BLOCK)));
        CHECK(n == DIO_BLOCK, "pwrite of block %" PRIu64 " wrote %zd bytes", b, n);
        writes++;
    }
    dio_expect_size(fd, placed * DIO_BLOCK, "after the placed blocks");
    SYS(close(fd));

    /* append: each O_APPEND write lands at the end and grows the file by exactly its length. */
    fd = SYS(open(f, O_WRONLY | O_APPEND | O_DIRECT));
    for (uint64_t k = 0, b = placed; k < sizeof appends / sizeof appends[0]; b += appends[k++]) {
        size_t len = appends[k] * DIO_BLOCK;
        dio_expect_size(fd, b * DIO_BLOCK, "before an append");
        ssize_t n = SYS(write(fd, want + b * DIO_BLOCK, len));
        CHECK((size_t)n == len, "append of blocks %" PRIu64 "..%" PRIu64 " wrote %zd bytes", b, b + appends[k] - 1, n);
        dio_expect_size(fd, b * DIO_BLOCK + len, "after an append");
        writes++;
    }
    if (tail_direct) {
        ssize_t n = SYS(write(fd, want + blocks * DIO_BLOCK, tail_direct));
        CHECK((uint64_t)n == tail_direct, "append of the tail's %" PRIu64 " aligned bytes wrote %zd", tail_direct, n);
        dio_expect_size(fd, blocks * DIO_BLOCK + tail_direct, "after the tail's aligned append");
        writes++;
    }
    SYS(close(fd));
    fd = SYS(open(f, O_WRONLY | O_APPEND));
    if (tail > tail_direct) {
        ssize_t n = SYS(write(fd, want + blocks * DIO_BLOCK + tail_direct, tail - tail_direct));
        CHECK((uint64_t)n == tail - tail_direct, "buffered append of the last %" PRIu64 " bytes wrote %zd",
              tail - tail_direct, n);
    }
    SYS(fsync(fd));
    dio_expect_size(fd, size, "after the tail");
    SYS(close(fd));

    /* read with O_DIRECT: whole blocks from past the end down to the first, then odd chunks in turn. */
    fd = SYS(open(f, O_RDONLY | O_DIRECT));
    for (uint64_t b = blocks + 2; b-- > 0;)
        dio_read_check("O_DIRECT 1 MiB", fd, buf, DIO_BLOCK, b * DIO_BLOCK, want, size, &direct_reads);
    uint64_t off = 0;
    for (size_t k = 0; off < size; k++) { /* the last chunk crosses EOF: a short read */
        size_t len = chunks[k % (sizeof chunks / sizeof chunks[0])];
        dio_read_check("O_DIRECT odd chunks", fd, buf, len, off, want, size, &chunk_reads);
        off += len;
    }
    SYS(close(fd));

    /* read through the page cache, from the daemon: the pages are dropped first. */
    fd = SYS(open(f, O_RDONLY));
    int e = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (e) fail("posix_fadvise DONTNEED: %s", strerror(e));
    for (off = 0; off <= size; off += DIO_BLOCK)
        dio_read_check("page cache 1 MiB", fd, buf, DIO_BLOCK, off, want, size, &cached_reads);
    SYS(close(fd));

    printf("direct-io %s: %" PRIu64 " bytes (%" PRIu64 " blocks placed, %" PRIu64 " appended, tail %" PRIu64
           "): %ld O_DIRECT writes; reads: %ld O_DIRECT of 1 MiB, %ld O_DIRECT in odd chunks, %ld through the "
           "page cache; %ld errors\n", f, size, placed, blocks - placed, tail, writes, direct_reads, chunk_reads,
           cached_reads, dio_errors);
    free(want);
    free(buf);
    return dio_errors == 0 ? 0 : 1;
}

/* --- helpers for two-process lock checks ------------------------------------------------------------ */

/* Runs fn(path, arg) in a forked child and returns its exit status (0 = child's checks passed). */
static int in_child(int (*fn)(const char *, long), const char *path, long arg) {
    fflush(NULL);
    pid_t pid = SYS(fork());
    if (pid == 0) {
        cmd_name = "guest-tools (child)";
        alarm(20); /* never hang the guest */
        _exit(fn(path, arg));
    }
    int status;
    SYS(waitpid(pid, &status, 0));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Starts a child that takes a blocking lock with fn and then writes one byte to a pipe. The parent
 * verifies the byte does not come while it holds its lock, releases with unlock(), and then expects it. */
static void check_blocking(const char *what, int (*fn)(const char *, long), const char *path,
                           void (*unlock)(int), int fd) {
    int p[2];
    SYS(pipe(p));
    fflush(NULL);
    pid_t pid = SYS(fork());
    if (pid == 0) {
        cmd_name = "guest-tools (child)";
        close(p[0]);
        alarm(20);
        if (fn(path, 0) != 0) _exit(1);
        _exit(write(p[1], "L", 1) == 1 ? 0 : 1);
    }
    close(p[1]);
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    char c = 0;
    int n = SYS(poll(&pfd, 1, 500)), status;
    if (n == 1) {
        if (read(p[0], &c, 1) == 1) fail("%s: child got the lock while the parent still held it", what);
        waitpid(pid, &status, 0);
        fail("%s: child's blocking lock failed (see above)", what);
    }
    time_t before = time(NULL);
    unlock(fd);
    long unlock_secs = (long)(time(NULL) - before);
    n = SYS(poll(&pfd, 1, 10000));
    CHECK(n == 1, "%s: child did not get the lock within 10 s after the parent released it", what);
    if (read(p[0], &c, 1) != 1 || c != 'L') {
        waitpid(pid, &status, 0);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
            fail("%s: the child's blocking lock never returned (killed after 20 s); the parent's unlock "
                 "took %ld s: was it queued behind the blocked request?", what, unlock_secs);
        fail("%s: child failed to lock (status 0x%x, see above)", what, status);
    }
    SYS(waitpid(pid, &status, 0));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: child status %d", what, status);
    close(p[0]);
}

/* --- flock ------------------------------------------------------------------------------------------- */
static int child_flock_try(const char *path, long op) {
    /* op > 0: expect LOCK_NB lock op to succeed; op < 0: expect -op to fail with EWOULDBLOCK. */
    int fd = SYS(open(path, O_RDWR));
    if (op > 0) {
        SYS(flock(fd, (int)op | LOCK_NB));
        /* Unlock before exiting: FUSE drops a flock at close only with the RELEASE, which a host
         * mount sends in the background, so the parent's next lock could still find this one. */
        SYS(flock(fd, LOCK_UN));
    } else
        EXPECT_ERR(flock(fd, (int)-op | LOCK_NB), EWOULDBLOCK);
    return 0;
}

static int child_flock_wait(const char *path, long unused) {
    (void)unused;
    int fd = SYS(open(path, O_RDWR));
    SYS(flock(fd, LOCK_EX));
    return 0;
}

static void flock_unlock(int fd) { SYS(flock(fd, LOCK_UN)); }

static int cmd_flock(int argc, char **argv) {
    if (argc < 2) fail("usage: flock FILE");
    const char *f = argv[1];
    int fd = SYS(open(f, O_RDWR | O_CREAT, 0644));
    SYS(flock(fd, LOCK_EX | LOCK_NB));
    CHECK(in_child(child_flock_try, f, -LOCK_EX) == 0, "exclusive flock did not exclude another LOCK_EX");
    CHECK(in_child(child_flock_try, f, -LOCK_SH) == 0, "exclusive flock did not exclude a LOCK_SH");
    SYS(flock(fd, LOCK_UN));
    CHECK(in_child(child_flock_try, f, LOCK_EX) == 0, "LOCK_EX failed after unlock");
    SYS(flock(fd, LOCK_SH | LOCK_NB));
    CHECK(in_child(child_flock_try, f, LOCK_SH) == 0, "two shared flocks did not coexist");
    CHECK(in_child(child_flock_try, f, -LOCK_EX) == 0, "shared flock did not exclude LOCK_EX");
    SYS(flock(fd, LOCK_EX | LOCK_NB)); /* upgrade */
    SYS(close(fd));
    return 0;
}

/* flock-wait FILE: a blocking LOCK_EX waits for the holder's unlock (FUSE_SETLKW when remote). */
static int cmd_flock_wait(int argc, char **argv) {
    if (argc < 2) fail("usage: flock-wait FILE");
    int fd = SYS(open(argv[1], O_RDWR | O_CREAT, 0644));
    SYS(flock(fd, LOCK_EX | LOCK_NB));
    check_blocking("blocking flock", child_flock_wait, argv[1], flock_unlock, fd);
    SYS(close(fd));
    return 0;
}

/* --- fcntl (POSIX record) locks ---------------------------------------------------------------------- */
static pid_t parent_pid;

static int setlk(int fd, int cmd, short type, off_t start, off_t len) {
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    return fcntl(fd, cmd, &fl);
}

static int child_fcntl_checks(const char *path, long unused) {
    (void)unused;
    int fd = SYS(open(path, O_RDWR));
    /* F_GETLK reports the parent's write lock on [0,100) for a range inside it. */
    struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 50, .l_len = 10};
    SYS(fcntl(fd, F_GETLK, &fl));
    CHECK(fl.l_type == F_WRLCK, "F_GETLK type %d, expected F_WRLCK", fl.l_type);
    CHECK(fl.l_start == 0 && fl.l_len == 100, "F_GETLK range %lld+%lld, expected 0+100",
          (long long)fl.l_start, (long long)fl.l_len);
    /* 0 means "holder unknown": a daemon that keeps the lock as an OFD lock on the host (C virtiofsd
     * -o posix_lock) reports no pid. Any other value must be the holder. */
    CHECK(fl.l_pid == parent_pid || fl.l_pid == 0, "F_GETLK pid %d, expected %d", (int)fl.l_pid, (int)parent_pid);
    /* Conflicting requests fail, a disjoint one succeeds. */
    EXPECT_ERR(setlk(fd, F_SETLK, F_RDLCK, 50, 10), EAGAIN, EACCES);
    EXPECT_ERR(setlk(fd, F_SETLK, F_WRLCK, 99, 0), EAGAIN, EACCES); /* len 0 = to EOF and beyond */
    SYS(setlk(fd, F_SETLK, F_WRLCK, 200, 10));
    fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 50};
    SYS(fcntl(fd, F_GETLK, &fl));
    CHECK(fl.l_type == F_UNLCK, "F_GETLK on a free range reported type %d", fl.l_type);
    /* Read locks share: the parent holds a read lock on [300,310). */
    SYS(setlk(fd, F_SETLK, F_RDLCK, 300, 10));
    EXPECT_ERR(setlk(fd, F_SETLK, F_WRLCK, 305, 1), EAGAIN, EACCES);
    return 0;
}

static int child_fcntl_after_unlock(const char *path, long unused) {
    (void)unused;
    int fd = SYS(open(path, O_RDWR));
    SYS(setlk(fd, F_SETLK, F_WRLCK, 0, 100));
    return 0;
}

static int child_fcntl_wait(const char *path, long unused) {
    (void)unused;
    int fd = SYS(open(path, O_RDWR));
    SYS(setlk(fd, F_SETLKW, F_WRLCK, 10, 10));
    return 0;
}

static void fcntl_unlock(int fd) { SYS(setlk(fd, F_SETLK, F_UNLCK, 0, 0)); }

static int cmd_fcntl_lock(int argc, char **argv) {
    if (argc < 2) fail("usage: fcntl-lock FILE");
    const char *f = argv[1];
    parent_pid = getpid();
    int fd = SYS(open(f, O_RDWR | O_CREAT, 0644));
    SYS(setlk(fd, F_SETLK, F_WRLCK, 0, 100));
    SYS(setlk(fd, F_SETLK, F_RDLCK, 300, 10));
    /* The owner's own F_GETLK sees no conflict with its own locks. */
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100};
    SYS(fcntl(fd, F_GETLK, &fl));
    CHECK(fl.l_type == F_UNLCK, "F_GETLK reported the caller's own lock (type %d)", fl.l_type);
    CHECK(in_child(child_fcntl_checks, f, 0) == 0, "conflict checks failed (see above)");
    SYS(setlk(fd, F_SETLK, F_UNLCK, 0, 100));
    CHECK(in_child(child_fcntl_after_unlock, f, 0) == 0, "lock still held after F_UNLCK");
    SYS(close(fd));
    return 0;
}

/* fcntl-wait FILE: F_SETLKW waits for the holder's F_UNLCK (FUSE_SETLKW when remote). */
static int cmd_fcntl_wait(int argc, char **argv) {
    if (argc < 2) fail("usage: fcntl-wait FILE");
    int fd = SYS(open(argv[1], O_RDWR | O_CREAT, 0644));
    SYS(setlk(fd, F_SETLK, F_WRLCK, 0, 100));
    check_blocking("F_SETLKW", child_fcntl_wait, argv[1], fcntl_unlock, fd);
    SYS(close(fd));
    return 0;
}

/* --- xattrs ------------------------------------------------------------------------------------------ */
static int has_name(const char *list, ssize_t len, const char *name) {
    for (const char *p = list; p < list + len; p += strlen(p) + 1)
        if (strcmp(p, name) == 0) return 1;
    return 0;
}

static int cmd_xattr(int argc, char **argv) {
    if (argc < 2) fail("usage: xattr FILE");
    const char *f = argv[1], *a = "user.swiftfs.text", *b = "user.swiftfs.binary";
    const char bin[] = {'x', 0, 'y', 0, (char)0xff};
    char buf[4096];
    SYS(setxattr(f, a, "hello xattr", 11, 0));
    CHECK(getxattr(f, a, NULL, 0) == 11, "size query of %s", a);
    ssize_t n = SYS(getxattr(f, a, buf, sizeof buf));
    CHECK(n == 11 && memcmp(buf, "hello xattr", 11) == 0, "value of %s", a);
    EXPECT_ERR(getxattr(f, a, buf, 3), ERANGE);
    EXPECT_ERR(setxattr(f, a, "x", 1, XATTR_CREATE), EEXIST);
    EXPECT_ERR(setxattr(f, "user.swiftfs.missing", "x", 1, XATTR_REPLACE), ENODATA);
    SYS(setxattr(f, a, "replaced", 8, XATTR_REPLACE));
    n = SYS(getxattr(f, a, buf, sizeof buf));
    CHECK(n == 8 && memcmp(buf, "replaced", 8) == 0, "value after XATTR_REPLACE");
    SYS(setxattr(f, b, bin, sizeof bin, XATTR_CREATE));
    n = SYS(getxattr(f, b, buf, sizeof buf));
    CHECK(n == (ssize_t)sizeof bin && memcmp(buf, bin, sizeof bin) == 0, "binary value");
    SYS(setxattr(f, "user.swiftfs.empty", "", 0, 0));
    CHECK(getxattr(f, "user.swiftfs.empty", buf, sizeof buf) == 0, "empty value");
    ssize_t need = SYS(listxattr(f, NULL, 0));
    n = SYS(listxattr(f, buf, sizeof buf));
    CHECK(n == need, "listxattr size query %zd, list %zd", need, n);
    CHECK(has_name(buf, n, a) && has_name(buf, n, b) && has_name(buf, n, "user.swiftfs.empty"),
          "listxattr lacks a name");
    SYS(removexattr(f, a));
    EXPECT_ERR(getxattr(f, a, buf, sizeof buf), ENODATA);
    EXPECT_ERR(removexattr(f, a), ENODATA);
    n = SYS(listxattr(f, buf, sizeof buf));
    CHECK(!has_name(buf, n, a) && has_name(buf, n, b), "list after remove");
    SYS(removexattr(f, b));
    SYS(removexattr(f, "user.swiftfs.empty"));
    EXPECT_ERR(getxattr(f, "user.swiftfs.never", buf, sizeof buf), ENODATA);
    return 0;
}

/* --- setuid/setgid cleared by a change of an unprivileged writer ------------------------------------- */
enum { BY_WRITE, BY_TRUNCATING_OPEN, BY_TRUNCATE, BY_FTRUNCATE };
static const char *const change_names[] = {"write", "open(O_TRUNC)", "truncate", "ftruncate"};

/* Changes FILE as uid:gid (a child without capabilities) or as root, in one of the ways above. */
static void change_as(const char *f, int how, uid_t uid, gid_t gid, int as_root) {
    pid_t pid = SYS(fork());
    if (pid == 0) {
        if (!as_root && (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)) _exit(3);
        int fd = -1, ok = 1;
        switch (how) {
        case BY_WRITE: fd = open(f, O_WRONLY | O_APPEND); ok = fd >= 0 && write(fd, "more\n", 5) == 5; break;
        case BY_TRUNCATING_OPEN: fd = open(f, O_WRONLY | O_TRUNC); ok = fd >= 0; break;
        case BY_TRUNCATE: ok = truncate(f, 3) == 0; break;
        case BY_FTRUNCATE: fd = open(f, O_WRONLY); ok = fd >= 0 && ftruncate(fd, 2) == 0; break;
        }
        if (fd >= 0) close(fd);
        _exit(ok ? 0 : 4);
    }
    int status;
    SYS(waitpid(pid, &status, 0));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s of %s as %s: child status %d", change_names[how], f,
          as_root ? "root" : "a user", status);
}

/* A write or truncation (and with "otrunc" an O_TRUNC open) of a setuid/setgid (group-executable) file
 * by its owner, who has no CAP_FSETID, clears both bits; the same by root keeps them. With
 * FUSE_HANDLE_KILLPRIV_V2 the daemon does the clearing, without it the guest kernel (a SETATTR of the
 * mode), except for O_TRUNC: with FUSE_ATOMIC_O_TRUNC, Linux (6.1 to 6.18 at least) drops that
 * SETATTR, so the bits survive unless the daemon clears them. */
static int cmd_setid_write(int argc, char **argv) {
    if (argc < 4) fail("usage: setid-write FILE UID GID [otrunc]");
    const char *f = argv[1];
    int with_otrunc = argc > 4 && strcmp(argv[4], "otrunc") == 0;
    uid_t uid = (uid_t)strtoul(argv[2], NULL, 10);
    gid_t gid = (gid_t)strtoul(argv[3], NULL, 10);
    int fd = SYS(open(f, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    SYS(write(fd, "setid\n", 6));
    SYS(close(fd));
    SYS(chown(f, uid, gid));
    struct stat st;
    for (int how = BY_WRITE; how <= BY_FTRUNCATE; how++)
        for (int as_root = 0; as_root <= 1 && (how != BY_TRUNCATING_OPEN || with_otrunc); as_root++) {
            SYS(chmod(f, 06755));
            change_as(f, how, uid, gid, as_root);
            SYS(stat(f, &st));
            mode_t want = as_root ? 06755 : 0755;
            CHECK((st.st_mode & 07777) == want, "%s by %s: mode %04o, expected %04o", change_names[how],
                  as_root ? "root" : "the owner", (unsigned)(st.st_mode & 07777), (unsigned)want);
        }
    SYS(unlink(f));
    return 0;
}

/* As uid:gid, optionally append to setuid file F first, then exec F (a copy of this program) as
 * "guest-tools euid": returns the euid the exec ran with. */
static unsigned exec_as(const char *f, uid_t uid, gid_t gid, int write_first) {
    int pipefd[2];
    SYS(pipe(pipefd));
    pid_t pid = SYS(fork());
    if (pid == 0) {
        if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0) _exit(3);
        if (write_first) {
            int fd = open(f, O_WRONLY | O_APPEND);
            if (fd < 0 || write(fd, "appended", 8) != 8) _exit(4);
            close(fd);
        }
        if (dup2(pipefd[1], STDOUT_FILENO) < 0) _exit(6);
        execl(f, "guest-tools", "euid", (char *)NULL);
        _exit(5);
    }
    close(pipefd[1]);
    char said[64] = "";
    size_t got = 0;
    ssize_t n;
    while (got < sizeof said - 1 && (n = read(pipefd[0], said + got, sizeof said - 1 - got)) > 0) got += (size_t)n;
    said[got] = 0;
    close(pipefd[0]);
    int status;
    SYS(waitpid(pid, &status, 0));
    unsigned euid;
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && sscanf(said, "euid %u", &euid) == 1,
          "exec of %s as uid %u failed (status %d, output '%s')", f, (unsigned)uid, status, said);
    return euid;
}

/* What an exec sees right after the owner's write cleared the setuid bit: FILE becomes a setuid-root,
 * group-writable copy of this program; uid:gid appends to it and execs it. The mode the client cached
 * decides: a stale one still runs the program as root. Fails if that exec ran with euid 0 (fs-check
 * judges this when the daemon clears the bit itself, killpriv_v2). Control: the same exec without the
 * write must run as root; on a nosuid mount nothing can be judged and it says so. */
static int cmd_setid_exec(int argc, char **argv) {
    if (argc < 4) fail("usage: setid-exec FILE UID GID");
    const char *f = argv[1];
    uid_t uid = (uid_t)strtoul(argv[2], NULL, 10);
    gid_t gid = (gid_t)strtoul(argv[3], NULL, 10);
    int in = SYS(open("/proc/self/exe", O_RDONLY)), out = SYS(open(f, O_WRONLY | O_CREAT | O_TRUNC, 0700));
    char buf[65536];
    ssize_t n;
    while ((n = SYS(read(in, buf, sizeof buf))) > 0) CHECK(write(out, buf, (size_t)n) == n, "copy to %s", f);
    close(in);
    close(out);
    SYS(chown(f, 0, gid));
    SYS(chmod(f, 04775));
    struct statvfs vfs;
    SYS(statvfs(f, &vfs));
    if (vfs.f_flag & ST_NOSUID) {
        SYS(unlink(f));
        printf("setid-exec: the mount is nosuid, an exec never runs as the file's owner: nothing to judge\n");
        return 0;
    }
    struct stat st;
    SYS(stat(f, &st)); /* the client now caches the mode with the setuid bit */
    unsigned before = exec_as(f, uid, gid, 0);
    unsigned after = exec_as(f, uid, gid, 1);
    SYS(stat(f, &st));
    SYS(unlink(f));
    printf("setid-exec: uid %u's exec of a setuid-root file ran with euid %u; after its write, mode %04o and "
           "euid %u\n", (unsigned)uid, before, (unsigned)(st.st_mode & 07777), after);
    CHECK(before == 0, "the control exec (no write) ran with euid %u, not 0", before);
    CHECK(after != 0, "an exec right after uid %u's write ran with euid 0 (mode now %04o): the client kept the "
          "setuid bit it had cached", (unsigned)uid, (unsigned)(st.st_mode & 07777));
    return 0;
}

static int cmd_euid(int argc, char **argv) {
    (void)argc, (void)argv;
    printf("euid %u\n", (unsigned)geteuid());
    return 0;
}

/* --- statfs, fsync, unlink of an open file, renameat2 ------------------------------------------------ */
static int cmd_statfs(int argc, char **argv) {
    if (argc < 2) fail("usage: statfs DIR");
    struct statfs s, t;
    SYS(statfs(argv[1], &s));
    CHECK(s.f_bsize > 0 && s.f_blocks > 0 && s.f_bfree <= s.f_blocks && s.f_bavail <= s.f_blocks,
          "bsize %ld blocks %llu bfree %llu bavail %llu", (long)s.f_bsize, (unsigned long long)s.f_blocks,
          (unsigned long long)s.f_bfree, (unsigned long long)s.f_bavail);
    CHECK(s.f_namelen >= 255, "namelen %ld", (long)s.f_namelen);
    int fd = SYS(open(argv[1], O_RDONLY | O_DIRECTORY));
    SYS(fstatfs(fd, &t));
    CHECK(t.f_bsize == s.f_bsize && t.f_blocks == s.f_blocks, "fstatfs differs from statfs");
    SYS(close(fd));
    printf("type 0x%lx bsize %ld blocks %llu bfree %llu files %llu namelen %ld\n", (long)s.f_type,
           (long)s.f_bsize, (unsigned long long)s.f_blocks, (unsigned long long)s.f_bfree,
           (unsigned long long)s.f_files, (long)s.f_namelen);
    return 0;
}

static int cmd_fsync(int argc, char **argv) {
    if (argc < 3) fail("usage: fsync FILE DIR");
    char buf[65536];
    fill_pattern((unsigned char *)buf, 0, sizeof buf, 5);
    int fd = SYS(open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644));
    write_all(fd, buf, sizeof buf, 0);
    SYS(fsync(fd));
    write_all(fd, buf, 100, sizeof buf);
    SYS(fdatasync(fd));
    SYS(close(fd));
    int dfd = SYS(open(argv[2], O_RDONLY | O_DIRECTORY));
    SYS(fsync(dfd));
    SYS(close(dfd));
    struct stat st;
    SYS(stat(argv[1], &st));
    CHECK(st.st_size == sizeof buf + 100, "size %lld", (long long)st.st_size);
    return 0;
}

static int cmd_unlink_open(int argc, char **argv) {
    if (argc < 2) fail("usage: unlink-open FILE");
    const char *f = argv[1];
    char buf[64] = {0};
    struct stat st;
    int fd = SYS(open(f, O_RDWR | O_CREAT | O_TRUNC, 0644));
    write_all(fd, "before", 6, 0);
    SYS(unlink(f));
    EXPECT_ERR(stat(f, &st), ENOENT);
    SYS(fstat(fd, &st));
    CHECK(st.st_nlink == 0, "nlink %lu after unlink", (unsigned long)st.st_nlink);
    write_all(fd, "+after", 6, 6);
    CHECK(read_full(fd, buf, sizeof buf, 0) == 12 && memcmp(buf, "before+after", 12) == 0,
          "read through the fd: '%s'", buf);
    /* A new file under the same name is independent of the open, unlinked one. */
    int fd2 = SYS(open(f, O_RDWR | O_CREAT | O_EXCL, 0644));
    write_all(fd2, "new", 3, 0);
    SYS(ftruncate(fd, 3));
    CHECK(read_full(fd2, buf, sizeof buf, 0) == 3 && memcmp(buf, "new", 3) == 0, "new file disturbed");
    SYS(close(fd));
    SYS(close(fd2));
    SYS(unlink(f));
    return 0;
}

static void put(const char *path, const char *text) {
    int fd = SYS(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    write_all(fd, text, strlen(text), 0);
    SYS(close(fd));
}

static void expect_content(const char *path, const char *text) {
    char buf[256] = {0};
    int fd = SYS(open(path, O_RDONLY));
    size_t n = read_full(fd, buf, sizeof buf - 1, 0);
    SYS(close(fd));
    CHECK(n == strlen(text) && memcmp(buf, text, n) == 0, "%s holds '%s', expected '%s'", path, buf, text);
}

static int cmd_rename2(int argc, char **argv) {
    if (argc < 2) fail("usage: rename2 DIR");
    int d = SYS(open(argv[1], O_RDONLY | O_DIRECTORY));
    char a[4096], b[4096], c[4096];
    snprintf(a, sizeof a, "%s/a", argv[1]);
    snprintf(b, sizeof b, "%s/b", argv[1]);
    snprintf(c, sizeof c, "%s/c", argv[1]);
    put(a, "A");
    put(b, "B");
    EXPECT_ERR(renameat2(d, "a", d, "b", RENAME_NOREPLACE), EEXIST);
    expect_content(a, "A");
    expect_content(b, "B");
    SYS(renameat2(d, "a", d, "b", RENAME_EXCHANGE));
    expect_content(a, "B");
    expect_content(b, "A");
    SYS(renameat2(d, "a", d, "c", RENAME_NOREPLACE));
    EXPECT_ERR(access(a, F_OK), ENOENT);
    expect_content(c, "B");
    EXPECT_ERR(renameat2(d, "a", d, "b", RENAME_EXCHANGE), ENOENT);
    SYS(unlink(b));
    SYS(unlink(c));
    SYS(close(d));
    return 0;
}

/* many-files: a tree of NDIRS directories of NFILES small files, made, listed with attributes (readdir
 * plus an lstat of every entry, as `ls -l` does) and read back, counting every failed call instead of
 * stopping at the first, so a daemon that runs out of descriptors shows how far it got. */
static double seconds_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static long many_errors;
static void many_error(const char *what, const char *path) {
    if (many_errors++ < 5) fprintf(stderr, "many-files: %s %s: %s\n", what, path, strerror(errno));
}

static int cmd_many_files(int argc, char **argv) {
    if (argc < 4) fail("usage: many-files DIR NDIRS NFILES");
    const char *root = argv[1];
    long ndirs = (long)num(argv[2]), nfiles = (long)num(argv[3]);
    char path[4096], want[64], got[64];
    struct timespec start;

    clock_gettime(CLOCK_MONOTONIC, &start);
    if (mkdir(root, 0755) != 0 && errno != EEXIST) many_error("mkdir", root);
    for (long d = 0; d < ndirs; d++) {
        snprintf(path, sizeof path, "%s/d%03ld", root, d);
        if (mkdir(path, 0755) != 0) many_error("mkdir", path);
        for (long f = 0; f < nfiles; f++) {
            snprintf(path, sizeof path, "%s/d%03ld/f%03ld", root, d, f);
            int len = snprintf(want, sizeof want, "d%03ld/f%03ld\n", d, f);
            int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
            if (fd < 0) { many_error("create", path); continue; }
            if (write(fd, want, (size_t)len) != len) many_error("write", path);
            if (close(fd) != 0) many_error("close", path);
        }
    }
    double create = seconds_since(&start);
    long create_errors = many_errors;

    clock_gettime(CLOCK_MONOTONIC, &start);
    long listed = 0;
    for (long d = 0; d < ndirs; d++) {
        snprintf(path, sizeof path, "%s/d%03ld", root, d);
        DIR *dir = opendir(path);
        if (!dir) { many_error("opendir", path); continue; }
        struct dirent *entry;
        errno = 0;
        while ((entry = readdir(dir))) {
            if (entry->d_name[0] == '.') continue;
            struct stat st;
            if (fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                many_error("lstat", entry->d_name);
                continue;
            }
            if (!S_ISREG(st.st_mode) || st.st_size != 10) { errno = EINVAL; many_error("attributes of", entry->d_name); }
            listed++;
            errno = 0;
        }
        if (errno != 0) many_error("readdir", path);
        closedir(dir);
    }
    if (listed != ndirs * nfiles) {
        errno = ENOENT;
        fprintf(stderr, "many-files: listed %ld files, expected %ld\n", listed, ndirs * nfiles);
        many_errors++;
    }
    double list = seconds_since(&start);
    long list_errors = many_errors - create_errors;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long d = 0; d < ndirs; d++)
        for (long f = 0; f < nfiles; f++) {
            snprintf(path, sizeof path, "%s/d%03ld/f%03ld", root, d, f);
            int len = snprintf(want, sizeof want, "d%03ld/f%03ld\n", d, f);
            int fd = open(path, O_RDONLY);
            if (fd < 0) { many_error("open", path); continue; }
            ssize_t n = read(fd, got, sizeof got);
            if (n != len || memcmp(got, want, (size_t)len) != 0) { errno = n < 0 ? errno : EIO; many_error("read", path); }
            close(fd);
        }
    double read_back = seconds_since(&start);
    long read_errors = many_errors - create_errors - list_errors;

    printf("many-files %ld x %ld: create %.1f s (%ld errors), list %.1f s (%ld files, %ld errors), "
           "read %.1f s (%ld errors)\n", ndirs, nfiles, create, create_errors, list, listed, list_errors,
           read_back, read_errors);
    return many_errors == 0 ? 0 : 1;
}

/* fsync-writer DIR SIZE: writes DIR/f1, f2, ... (SIZE bytes of pattern seed N each), fsyncs each file
 * and DIR, then prints "FSYNCED N" on stdout; forever, until the machine is killed. The host kills QEMU
 * after some markers and checks that every file announced is on the host, intact. */
static int cmd_fsync_writer(int argc, char **argv) {
    if (argc < 3) fail("usage: fsync-writer DIR SIZE");
    uint64_t size = num(argv[2]);
    size_t chunk = 65536;
    unsigned char *buf = malloc(chunk);
    int dir = SYS(open(argv[1], O_RDONLY | O_DIRECTORY));
    char path[4096];
    for (uint64_t n = 1; n < UINT64_MAX; n++) {
        snprintf(path, sizeof path, "%s/f%" PRIu64, argv[1], n);
        int fd = SYS(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
        for (uint64_t off = 0; off < size; off += chunk) {
            size_t len = size - off < chunk ? (size_t)(size - off) : chunk;
            fill_pattern(buf, off, len, n);
            write_all(fd, buf, len, (off_t)off);
        }
        SYS(fsync(fd));
        SYS(close(fd));
        SYS(fsync(dir));
        printf("FSYNCED %" PRIu64 "\n", n);
        fflush(stdout);
    }
    return 0; /* not reached */
}

/* soak DIR SECONDS SEED: one worker of the soak check. Keeps up to 32 files in DIR (its own) and for
 * SECONDS does a random mix of create, overwrite, read-and-verify, stat, readdir, rename and unlink,
 * checking each result against what it knows the directory holds. Prints a tally; exits 1 on any error. */
struct soak_file { int exists; uint64_t size, seed, name; };

static int cmd_soak(int argc, char **argv) {
    if (argc < 4) fail("usage: soak DIR SECONDS SEED");
    const char *dir = argv[1];
    uint64_t seconds = num(argv[2]), rng = num(argv[3]) * 0x9e3779b97f4a7c15ULL + 1;
    enum { SLOTS = 32, MAXSIZE = 65536 };
    static const char *names[] = {"create", "write", "read", "stat", "readdir", "rename", "unlink"};
    struct soak_file files[SLOTS] = {{0}};
    long ops[7] = {0}, errors = 0;
    uint64_t next_name = 1;
    unsigned char *buf = malloc(MAXSIZE), *want = malloc(MAXSIZE);
    char path[4096], path2[4096];
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) fail("mkdir %s: %s", dir, strerror(errno));
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
#define SOAK_ERR(...) do { if (errors++ < 5) { fprintf(stderr, "soak %s: ", dir); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
    while (seconds_since(&start) < (double)seconds) {
        rng = mix(rng);
        int slot = (int)(rng % SLOTS), op = (int)((rng >> 8) % 7);
        struct soak_file *f = &files[slot];
        if (!f->exists) op = 0;
        else if (op == 0) op = 1;
        snprintf(path, sizeof path, "%s/n%" PRIu64, dir, f->name);
        ops[op]++;
        switch (op) {
        case 0: case 1: { /* create a new file in the slot / overwrite it */
            if (op == 0) { f->name = next_name++; snprintf(path, sizeof path, "%s/n%" PRIu64, dir, f->name); }
            f->size = (rng >> 16) % MAXSIZE;
            f->seed = rng >> 32;
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0) { SOAK_ERR("open %s: %s", path, strerror(errno)); f->exists = 0; break; }
            fill_pattern(buf, 0, f->size, f->seed);
            if (write(fd, buf, f->size) != (ssize_t)f->size) SOAK_ERR("write %s: %s", path, strerror(errno));
            if (close(fd) < 0) SOAK_ERR("close %s: %s", path, strerror(errno));
            f->exists = 1;
            break;
        }
        case 2: { /* read back and compare */
            int fd = open(path, O_RDONLY);
            if (fd < 0) { SOAK_ERR("open %s: %s", path, strerror(errno)); break; }
            ssize_t n = read(fd, buf, MAXSIZE);
            fill_pattern(want, 0, f->size, f->seed);
            if (n != (ssize_t)f->size || memcmp(buf, want, f->size) != 0)
                SOAK_ERR("%s: read %zd bytes, expected %" PRIu64 " bytes of seed %" PRIu64, path, n, f->size, f->seed);
            close(fd);
            break;
        }
        case 3: { /* stat */
            struct stat st;
            if (stat(path, &st) < 0) SOAK_ERR("stat %s: %s", path, strerror(errno));
            else if ((uint64_t)st.st_size != f->size) SOAK_ERR("%s: size %lld, expected %" PRIu64, path, (long long)st.st_size, f->size);
            break;
        }
        case 4: { /* readdir: exactly the files the table says */
            DIR *d = opendir(dir);
            if (!d) { SOAK_ERR("opendir %s: %s", dir, strerror(errno)); break; }
            int seen = 0, want_count = 0;
            struct dirent *e;
            while ((e = readdir(d))) if (e->d_name[0] != '.') seen++;
            closedir(d);
            for (int i = 0; i < SLOTS; i++) want_count += files[i].exists;
            if (seen != want_count) SOAK_ERR("%s lists %d files, expected %d", dir, seen, want_count);
            break;
        }
        case 5: { /* rename to a fresh name */
            uint64_t to = next_name++;
            snprintf(path2, sizeof path2, "%s/n%" PRIu64, dir, to);
            if (rename(path, path2) < 0) SOAK_ERR("rename %s: %s", path, strerror(errno));
            else f->name = to;
            break;
        }
        case 6: /* unlink */
            if (unlink(path) < 0) SOAK_ERR("unlink %s: %s", path, strerror(errno));
            f->exists = 0;
            break;
        }
    }
    for (int i = 0; i < SLOTS; i++)
        if (files[i].exists) {
            snprintf(path, sizeof path, "%s/n%" PRIu64, dir, files[i].name);
            if (unlink(path) < 0) SOAK_ERR("unlink %s: %s", path, strerror(errno));
        }
    if (rmdir(dir) < 0) SOAK_ERR("rmdir %s: %s", dir, strerror(errno));
    long total = 0;
    for (int i = 0; i < 7; i++) total += ops[i];
    printf("soak %s: %ld operations (", dir, total);
    for (int i = 0; i < 7; i++) printf("%s%s %ld", i ? ", " : "", names[i], ops[i]);
    printf("), %ld errors\n", errors);
    return errors == 0 ? 0 : 1;
}

static const struct {
    const char *name, *usage;
    int (*fn)(int, char **);
} cmds[] = {
    {"pattern", "FILE SIZE SEED [CHUNK]", cmd_pattern},
    {"verify", "FILE SIZE SEED [CHUNK]", cmd_verify},
    {"mmap-read", "FILE SIZE SEED [direct-io]", cmd_mmap_read},
    {"mmap-write", "FILE SIZE SEED [direct-io]", cmd_mmap_write},
    {"parallel-write", "FILE SIZE SEED WRITERS", cmd_parallel_write},
    {"sparse", "FILE", cmd_sparse},
    {"direct-io", "FILE SIZE SEED", cmd_direct_io},
    {"flock", "FILE", cmd_flock},
    {"flock-wait", "FILE", cmd_flock_wait},
    {"fcntl-lock", "FILE", cmd_fcntl_lock},
    {"fcntl-wait", "FILE", cmd_fcntl_wait},
    {"xattr", "FILE", cmd_xattr},
    {"statfs", "DIR", cmd_statfs},
    {"fsync", "FILE DIR", cmd_fsync},
    {"unlink-open", "FILE", cmd_unlink_open},
    {"setid-write", "FILE UID GID [otrunc]", cmd_setid_write},
    {"setid-exec", "FILE UID GID", cmd_setid_exec},
    {"euid", "", cmd_euid},
    {"rename2", "DIR", cmd_rename2},
    {"many-files", "DIR NDIRS NFILES", cmd_many_files},
    {"fsync-writer", "DIR SIZE", cmd_fsync_writer},
    {"soak", "DIR SECONDS SEED", cmd_soak},
};

int main(int argc, char **argv) {
    for (size_t i = 0; argc > 1 && i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) {
            cmd_name = cmds[i].name;
            return cmds[i].fn(argc - 1, argv + 1);
        }
    fprintf(stderr, "usage: guest-tools CMD ARGS...\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        fprintf(stderr, "  %s %s\n", cmds[i].name, cmds[i].usage);
    return 2;
}
