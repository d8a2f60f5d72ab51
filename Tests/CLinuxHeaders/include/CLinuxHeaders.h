// The kernel ABI headers our Swift wire records must match.
#include <linux/fuse.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_ring.h>
#include <linux/vhost_types.h>
