# shellcheck shell=bash disable=SC2054 # commas inside QEMU option strings are intended
# The one place that knows how to start QEMU for the test guests (the Linux one and the
# unikernel, qemu_unikernel_cmd below). Source after common.sh.
#
#   qemu_linux_cmd [--virtiofs SOCKET] [--tag TAG] [--queues N] [--queue-size N] [--9p DIR]
#                  [--append "KERNEL ARGS"] [--mem 1G] [--smp N] [--kernel F] [--initrd F] [-- QEMU ARGS...]
#   "${QEMU_CMD[@]}"
#
# Fills the array QEMU_CMD. The guest (scripts/linux-guest/build) mounts the virtio-fs tag at /mnt and
# a 9p share at /mnt (or /mnt9p when virtio-fs is there too), runs swiftfs.script=... and powers off.
# Facts: vhost-user needs all guest RAM in a shared memfd (-numa node,memdev=...); no KVM here, so
# always TCG; -no-reboot turns the guest's poweroff/panic into a QEMU exit. The guest script may live on
# the share (--append swiftfs.script=/mnt/bench.sh): init resolves it after mounting. The C virtiofsd
# serves one request queue only: with --queues 2 it panics ("Invalid queue index: 2").

LINUX_GUEST_DIR=${LINUX_GUEST_DIR:-$REPO_ROOT/build/linux-guest}

qemu_linux_cmd() {
    local kernel=$LINUX_GUEST_DIR/vmlinuz initrd=$LINUX_GUEST_DIR/initramfs.cpio
    local mem=1G smp=1 sock='' tag=share queues='' qsize='' dir9p='' append='' extra=()
    while (($#)); do
        case $1 in
            --virtiofs) sock=$2; shift ;;
            --tag) tag=$2; shift ;;
            --queues) queues=$2; shift ;;
            --queue-size) qsize=$2; shift ;;
            --9p) dir9p=$2; shift ;;
            --append) append="$append $2"; shift ;;
            --mem) mem=$2; shift ;;
            --smp) smp=$2; shift ;;
            --kernel) kernel=$2; shift ;;
            --initrd) initrd=$2; shift ;;
            --) shift; extra=("$@"); break ;;
            *) die "qemu_linux_cmd: unknown option $1" ;;
        esac
        shift
    done
    [[ -n $sock || -n $dir9p ]] || die "qemu_linux_cmd: need --virtiofs SOCKET and/or --9p DIR"
    [[ -r $kernel && -r $initrd ]] || die "guest not built: run scripts/linux-guest/build"

    QEMU_CMD=(qemu-system-x86_64 -accel tcg -smp "$smp" -m "$mem"
        -object "memory-backend-memfd,id=mem,size=$mem,share=on" -numa node,memdev=mem
        -nographic -no-reboot -nic none
        -kernel "$kernel" -initrd "$initrd")
    local cmdline="console=ttyS0 panic=-1 loglevel=4"
    if [[ -n $sock ]]; then
        local dev="vhost-user-fs-pci,chardev=vfs0,tag=$tag"
        [[ -n $queues ]] && dev+=",num-request-queues=$queues"
        [[ -n $qsize ]] && dev+=",queue-size=$qsize"
        QEMU_CMD+=(-chardev "socket,id=vfs0,path=$sock" -device "$dev")
        cmdline+=" swiftfs.virtiofs=$tag"
    fi
    if [[ -n $dir9p ]]; then
        QEMU_CMD+=(-fsdev "local,id=fs9,path=$dir9p,security_model=none"
            -device virtio-9p-pci,fsdev=fs9,mount_tag=share9)
        cmdline+=" swiftfs.9p=share9"
    fi
    QEMU_CMD+=(-append "$cmdline$append" "${extra[@]}")
}

# qemu_unikernel_cmd --kernel F --ram MIB --append "ARGS" [--virtiofs SOCKET] [--queue-size N]
#                    [--dax-file F --dax-mib N] [--9p DIR] [-- QEMU ARGS...]
# Fills QEMU_CMD for the swiftfs unikernel (scripts/run-guest): PVH boot, isa-debug-exit for its
# exit status, the serial console on stdio. The virtio-fs and 9p devices both use the tag "share"
# (the guest mounts whichever it finds at /host); the DAX window is an ivshmem-plain BAR.
qemu_unikernel_cmd() {
    local kernel='' ram=512 append='' sock='' qsize=1024 dax_file='' dax_mib='' dir9p='' extra=()
    while (($#)); do
        case $1 in
            --kernel) kernel=$2; shift ;;
            --ram) ram=$2; shift ;;
            --append) append=$2; shift ;;
            --virtiofs) sock=$2; shift ;;
            --queue-size) qsize=$2; shift ;;
            --dax-file) dax_file=$2; shift ;;
            --dax-mib) dax_mib=$2; shift ;;
            --9p) dir9p=$2; shift ;;
            --) shift; extra=("$@"); break ;;
            *) die "qemu_unikernel_cmd: unknown option $1" ;;
        esac
        shift
    done
    QEMU_CMD=(qemu-system-x86_64 -accel tcg -M pc -m "${ram}M" -kernel "$kernel" -append "$append"
        -nodefaults -display none -no-reboot -serial stdio
        -device isa-debug-exit,iobase=0xf4,iosize=0x04)
    if [[ -n $sock ]]; then
        QEMU_CMD+=(-object "memory-backend-memfd,id=mem,size=${ram}M,share=on" -numa node,memdev=mem
            -chardev "socket,id=vhostfs,path=$sock"
            -device "vhost-user-fs-pci,chardev=vhostfs,tag=share,queue-size=$qsize")
    fi
    if [[ -n $dax_file ]]; then
        QEMU_CMD+=(-object "memory-backend-file,id=dax,mem-path=$dax_file,size=${dax_mib}M,share=on"
            -device ivshmem-plain,memdev=dax)
    fi
    if [[ -n $dir9p ]]; then
        QEMU_CMD+=(-fsdev "local,id=fs9,path=$dir9p,security_model=none"
            -device "virtio-9p-pci,fsdev=fs9,mount_tag=share")
    fi
    QEMU_CMD+=("${extra[@]}")
}
