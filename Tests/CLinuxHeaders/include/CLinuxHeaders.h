// The kernel ABI headers our Swift wire records must match.
#include <linux/fuse.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_ring.h>
#include <linux/vhost_types.h>

// GNU-only C library values the Glibc module does not show (it is imported
// without _GNU_SOURCE); defined in CLinuxHeaders.c, which is compiled with it.
extern const int libc_O_DIRECT;
extern const int libc_O_NOATIME;
extern const int libc_O_PATH;
extern const int libc_SEEK_DATA;
extern const int libc_SEEK_HOLE;
