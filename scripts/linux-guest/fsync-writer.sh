#!/bin/sh
# Guest side of `fault-check --check kill`: writes MOUNT/fsync/f1, f2, ... (256 KiB of a known pattern
# each), fsyncs each and prints "FSYNCED N" after each fsync, until the host kills QEMU.
mnt=$1
mkdir -p "$mnt/fsync" || exit 1
echo "FSYNC-WRITER-START"
exec guest-tools fsync-writer "$mnt/fsync" 262144
