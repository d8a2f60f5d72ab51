#!/bin/sh
# demo.sh DIR: a short showcase run inside the guest by `scripts/linux-guest/shell --demo DAEMON`:
# list the share, read a file the host put there, write one the host then shows.
DIR=${1:-/mnt}
echo "== guest: $(uname -sr), share mounted: $(grep -E " $DIR " /proc/mounts)"
echo "== guest: ls -l $DIR"
ls -l "$DIR"
echo "== guest: cat $DIR/hello-from-host.txt"
cat "$DIR/hello-from-host.txt"
echo "== guest: writing $DIR/hello-from-guest.txt"
echo "Hello from the Linux guest ($(uname -r)), written at $(date -u '+%H:%M:%S UTC')." >"$DIR/hello-from-guest.txt"
mkdir -p "$DIR/made-in-guest"
seq 1 5 >"$DIR/made-in-guest/numbers.txt"
sync
echo "== guest: df -h $DIR"
df -h "$DIR"
