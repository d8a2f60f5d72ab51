# shellcheck shell=sh
# The one Postmark workload of every benchmark: scripts/bench (Linux guest, host mounts, native; the
# unikernel's postmark app gets the same numbers) and scripts/bench.d/host-pairs. POSIX sh, because the
# Linux bench guest's busybox sources it too (/bench/postmark.sh in its initramfs).
pm_files=500 pm_transactions=500 pm_min=500 pm_max=10000 pm_seed=42

# postmark_config DIR: Postmark's commands for one run in DIR with the numbers above.
postmark_config() {
    printf '%s\n' "set size $pm_min $pm_max" "set number $pm_files" "set transactions $pm_transactions" \
        "set seed $pm_seed" "set read 512" "set write 512" "set buffering false" "set bias read 5" \
        "set bias create 5" "set subdirectories 0" "set location $1" run quit
}
