#!/bin/sh
# Guest side of `run-check --check many-files`: guest-tools many-files makes, lists with attributes
# and reads back NDIRS x NFILES files under MOUNT/many (default 300 x 100; the kernel command line may
# set swiftfs.manyfiles=NDIRSxNFILES). Prints FSCHECK lines as fs-check.sh does.
mnt=$1
dirs=300 files=100
for word in $(cat /proc/cmdline); do
    case $word in
        swiftfs.manyfiles=*x*) v=${word#*=}; dirs=${v%x*}; files=${v#*x} ;;
    esac
done
echo "many-files: $dirs directories of $files files on $mnt"
if guest-tools many-files "$mnt/many" "$dirs" "$files"; then
    echo "FSCHECK PASS many-files"
    echo "FSCHECK SUMMARY: 1 passed, 0 failed"
    exit 0
fi
echo "FSCHECK FAIL many-files: errors (above)"
echo "FSCHECK SUMMARY: 0 passed, 1 failed"
exit 1
