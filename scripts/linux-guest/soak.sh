#!/bin/sh
# Guest side of `fault-check --check soak`: WORKERS guest-tools soak processes (each its own directory,
# a random mix of create/write/read/stat/readdir/rename/unlink, every result checked) for SECONDS
# (swiftfs.soak=SECONDSxWORKERS, default 150x16). First a warm-up of the same mix for 20 s (the
# daemon's worker threads and buffers come to their working size), then the guest drops its caches
# (FORGETs) and the handshake with the host, which samples the daemon's descriptors and memory:
# "SOAK-BASELINE", then wait for MOUNT/.soak-go (the host made it after its sample); at the end
# unmount and print "SOAK-UNMOUNTED", then wait a while (the host samples again).
mnt=$1
seconds=150 workers=16
for word in $(cat /proc/cmdline); do
    case $word in
        swiftfs.soak=*x*) v=${word#*=}; seconds=${v%x*}; workers=${v#*x} ;;
    esac
done
passed=0 failed=0
result() { if [ "$2" = 0 ]; then echo "FSCHECK PASS $1"; passed=$((passed + 1)); else echo "FSCHECK FAIL $1${3:+: $3}"; failed=$((failed + 1)); fi; }
summary() { echo "FSCHECK SUMMARY: $passed passed, $failed failed"; }

# run_workers SECONDS: the workers, in parallel (their tallies to the console); prints how many failed.
run_workers() {
    pids=''
    w=1
    while [ $w -le "$workers" ]; do
        guest-tools soak "$mnt/soak/w$w" "$1" "$w" >/dev/console 2>&1 &
        pids="$pids $!"
        w=$((w + 1))
    done
    bad=0
    for p in $pids; do wait "$p" || bad=$((bad + 1)); done
    echo "$bad"
}
mkdir -p "$mnt/soak" || exit 1
echo "SOAK-WARMUP"
bad=$(run_workers 20 | tail -1)
result soak-warm-up "$bad" "$bad of $workers workers reported errors (above)"
sync
echo 3 >/proc/sys/vm/drop_caches
echo "SOAK-BASELINE"
i=0
until [ -e "$mnt/.soak-go" ]; do
    i=$((i + 1))
    [ $i -ge 300 ] && { result host-go 1 "no $mnt/.soak-go from the host"; summary; exit 1; }
    sleep 0.2
done
echo "soak: $workers workers for $seconds s on $mnt"
bad=$(run_workers "$seconds" | tail -1)
rmdir "$mnt/soak"
result soak-workers "$bad" "$bad of $workers workers reported errors (above)"
rm -f "$mnt/.soak-go"
cd / || exit 1
umount "$mnt"
result soak-unmount $?
summary
echo "SOAK-UNMOUNTED"
# The host samples the daemon now; init powers off after this.
sleep 8
[ "$failed" = 0 ]
