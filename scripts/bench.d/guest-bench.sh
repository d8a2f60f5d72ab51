#!/bin/sh
# Runs inside the Linux test guest (busybox sh) from the bench initramfs, as swiftfs.script=/bench/guest-bench.sh;
# $1 is the mounted share (virtio-fs or 9p). Parameters come from the kernel command line:
#   bench.size=MiB      fio file size
#   bench.seqtime=S     runtime of each sequential fio job (looping over the file)
#   bench.randtime=S    runtime of each random fio job
#   bench.meta=N        files for the create/stat/unlink test
#   bench.pm=FILES,TRANSACTIONS,MIN,MAX,SEED                 Debian postmark parameters (default: postmark.sh's)
#   bench.lat=N         timed calls per operation for benchtool latency
#   bench.tar=PATH      the tarball of the tree part (default /bench/src.tar)
#   bench.parts=fio,meta,postmark,tar,latency[,tmpfs][,buffered]  which parts to run; tmpfs adds the tar and
#                       latency parts on a tmpfs inside the guest (the no-transport baseline); buffered is fio's
#                       sequential 1 MiB jobs without O_DIRECT (bufwrite, bufread)
# Prints "RESULT ..." lines and fio's JSON between BENCH-FIO-JSON-BEGIN/END markers for scripts/bench, and
# "BENCH-PHASE NAME" as each part starts ("BENCH-PHASE end" after the last): the host samples the file
# server's CPU time when it sees these lines, which gives the daemon's CPU seconds per part.
# The tar part unpacks bench.tar (a few thousand files of /usr/include, made by build-initramfs),
# drops the caches, reads every file back (find | xargs cat) and removes the tree, each step timed.
export PATH=/usr/bin:/bin
mnt=${1:-/mnt}
size=64 seqtime=5 randtime=5 meta=500 pm='' parts=fio,meta,postmark,tar,latency lat=1000 tarball=/bench/src.tar
# shellcheck disable=SC2013 # one line of words
for word in $(cat /proc/cmdline); do
    case $word in
        bench.size=*) size=${word#*=} ;;
        bench.seqtime=*) seqtime=${word#*=} ;;
        bench.randtime=*) randtime=${word#*=} ;;
        bench.meta=*) meta=${word#*=} ;;
        bench.pm=*) pm=${word#*=} ;;
        bench.parts=*) parts=${word#*=} ;;
        bench.lat=*) lat=${word#*=} ;;
        bench.tar=*) tarball=${word#*=} ;;
    esac
done
work=$mnt/swiftfs-bench
rm -rf "$work"
mkdir -p "$work" || { echo "RESULT error what=mkdir"; exit 1; }
echo "BENCH-GUEST: kernel $(uname -r), share $(grep " $mnt " /proc/mounts | cut -d' ' -f1,3,4)"
status=0

phase() { echo "BENCH-PHASE $1"; }
# stat_cold drops every cache before each call (tens of milliseconds under TCG): a twentieth as many
# calls as the other operations, at least 20.
cold=$((lat / 20))
[ "$cold" -lt 20 ] && cold=20

case ",$parts," in *,fio,*)
    phase fio
    # psync with O_DIRECT: every request goes to the file server (no guest page cache on either side of
    # the comparison); one fio process, the jobs one after another (stonewall), each for a fixed time
    # (a pass over the file alone can take a fraction of a second: too short on a noisy machine).
    cat >/tmp/bench.fio <<JOBS
[global]
ioengine=psync
direct=1
thread
filename=$work/fio.dat
size=${size}m
clocksource=clock_gettime
stonewall

[seqwrite]
rw=write
bs=1m
runtime=$seqtime
time_based
end_fsync=1

[seqread]
rw=read
bs=1m
runtime=$seqtime
time_based

[randread]
rw=randread
bs=4k
runtime=$randtime
time_based

[randwrite]
rw=randwrite
bs=4k
runtime=$randtime
time_based
JOBS
    echo "BENCH-FIO-JSON-BEGIN"
    fio --output-format=json /tmp/bench.fio || { status=1; echo "RESULT error what=fio"; }
    echo "BENCH-FIO-JSON-END"
    rm -f "$work/fio.dat"
    ;;
esac

case ",$parts," in *,buffered,*)
    phase buffered
    # psync, 1 MiB, no O_DIRECT: large I/O as applications do it. On a direct-I/O mount (virtio-fs with
    # FOPEN_DIRECT_IO: swiftfsd --cache never, virtiofsd -o cache=none) each call goes to the file server
    # as is, the guest's pages handed to the server (the virtqueue splits 1 MiB into 3 requests), like 9p
    # cache=none (in msize pieces); with cache=auto the guest copies each write into its page cache and
    # sends it (no writeback cache), and reads come through read-ahead (256 KiB requests) into the page
    # cache and are copied out (fio drops the file's cached pages first, invalidate=1). Under TCG those
    # guest copies are slow. Its own file and JSON block (report.py merges the jobs of every block).
    cat >/tmp/buffered.fio <<JOBS
[global]
ioengine=psync
direct=0
thread
filename=$work/fio-buffered.dat
size=${size}m
bs=1m
clocksource=clock_gettime
stonewall

[bufwrite]
rw=write
runtime=$seqtime
time_based
end_fsync=1

[bufread]
rw=read
runtime=$seqtime
time_based
JOBS
    echo "BENCH-FIO-JSON-BEGIN"
    fio --output-format=json /tmp/buffered.fio || { status=1; echo "RESULT error what=fio-buffered"; }
    echo "BENCH-FIO-JSON-END"
    rm -f "$work/fio-buffered.dat"
    ;;
esac

case ",$parts," in *,meta,*)
    phase meta
    benchtool meta "$work/meta" "$meta" || { status=1; echo "RESULT error what=meta"; }
    ;;
esac

case ",$parts," in *,postmark,*)
    phase postmark
    . /bench/postmark.sh
    [ -n "$pm" ] && IFS=, read -r pm_files pm_transactions pm_min pm_max pm_seed <<PM
$pm
PM
    mkdir -p "$work/postmark"
    postmark_config "$work/postmark" >/tmp/pm.cfg
    benchtool postmark --bin /usr/bin/postmark /tmp/pm.cfg 2>/dev/null || { status=1; echo "RESULT error what=postmark"; }
    ;;
esac

# tree DIR LABEL: unpack, read back cold, remove; RESULT time label=LABEL-untar|-readback|-rmtree.
tree() {
    mkdir -p "$1" || return 1
    benchtool time "$2-untar" tar xf "$tarball" -C "$1" || return 1
    benchtool dropcaches
    benchtool time "$2-readback" sh -c "find '$1' -type f | xargs cat >/dev/null" || return 1
    benchtool dropcaches
    benchtool time "$2-rmtree" rm -rf "$1" || return 1
}

case ",$parts," in *,tar,*)
    phase tar
    tree "$work/tree" tar || { status=1; echo "RESULT error what=tar"; }
    ;;
esac

case ",$parts," in *,latency,*)
    phase latency
    benchtool latency "$work" "$lat" --cold-iterations "$cold" || { status=1; echo "RESULT error what=latency"; }
    ;;
esac

case ",$parts," in *,tmpfs,*)
    phase tmpfs
    mkdir -p /bench-tmpfs && mount -t tmpfs tmpfs /bench-tmpfs || { status=1; echo "RESULT error what=tmpfs"; }
    tree /bench-tmpfs/tree tmpfs-tar || { status=1; echo "RESULT error what=tmpfs-tar"; }
    benchtool latency /bench-tmpfs "$lat" --cold-iterations "$cold" || { status=1; echo "RESULT error what=tmpfs-latency"; }
    umount /bench-tmpfs
    ;;
esac

phase end
rm -rf "$work"
echo "BENCH-GUEST-DONE status=$status"
exit $status
