#!/bin/sh
# Guest side of `fault-check --check host-changes`: the host removes, replaces and renames files and
# directories under MOUNT/hc while the guest has them open, cached or as its working directory. For
# each change the guest prints "HOSTCHANGE-DO NAME" and waits for MOUNT/hc/.done-NAME (the host makes
# it after the change). What the guest may see: through a descriptor or name it had, the old object or
# ESTALE/ENOENT; through a fresh lookup after the cache timeout (cache=auto: 1 s), the new object. Never
# another file, never a hang.
mnt=$1
hc=$mnt/hc
passed=0 failed=0
result() { if [ "$2" = 0 ]; then echo "FSCHECK PASS $1${3:+ ($3)}"; passed=$((passed + 1)); else echo "FSCHECK FAIL $1${3:+: $3}"; failed=$((failed + 1)); fi; }
# is NAME ACTUAL EXPECTED...: passes if ACTUAL is one of EXPECTED.
is() {
    name=$1 actual=$2
    shift 2
    for want in "$@"; do [ "$actual" = "$want" ] && { result "$name" 0 "saw '$actual'"; return; }; done
    result "$name" 1 "got '$actual', expected one of: $*"
}
# old_or_gone NAME OUTPUT OLD: the old content, or a stale/missing-file error.
old_or_gone() {
    case $2 in
        "$3" | *"Stale file handle"* | *"No such file"*) result "$1" 0 "saw '$2'" ;;
        *) result "$1" 1 "got '$2'" ;;
    esac
}
step() {  # to the console: a caller may be capturing stdout
    echo "HOSTCHANGE-DO $1" >/dev/console
    i=0
    until [ -e "$hc/.done-$1" ]; do
        i=$((i + 1))
        [ $i -ge 150 ] && { echo "host-changes: no answer from the host for $1" >/dev/console; return 1; }
        sleep 0.2
    done
}
# Past the guest's entry and attribute timeouts, so fresh lookups reach the daemon.
expire() { sleep 2; }

mkdir -p "$hc/d1" "$hc/e" || exit 1
echo old >"$hc/f"; echo x >"$hc/d1/a"; echo g >"$hc/g"; echo w >"$hc/w"
echo src >"$hc/src"; echo dst >"$hc/dst"; echo r >"$hc/r"
cat "$hc/f" "$hc/d1/a" "$hc/g" "$hc/w" "$hc/src" "$hc/dst" "$hc/r" >/dev/null  # cached in the guest

# 1. f is open; the host unlinks it and makes a new f.
exec 3<"$hc/f"
step replace-f
old_or_gone open-fd-sees-old-file "$(cat <&3 2>&1)" old
exec 3<&-
out=$(cat "$hc/f" 2>&1)
case $out in
    old | new | *"Stale file handle"* | *"No such file"*) result cached-name-after-replace 0 "saw '$out'" ;;
    *) result cached-name-after-replace 1 "got '$out'" ;;
esac
expire
is new-open-sees-new-file "$(cat "$hc/f" 2>&1)" new

# 2. The guest's working directory d1 is renamed to d2 on the host.
out=$(cd "$hc/d1" && step rename-d1 && cat a 2>&1 && echo y >b 2>&1; echo "rc=$?")
old_or_gone cwd-renamed-dir-reads "$(echo "$out" | head -1)" x
expire
is renamed-dir-new-name "$(cat "$hc/d2/a" 2>&1)" x
is renamed-dir-old-name-gone "$(ls "$hc/d1" 2>&1 | grep -c 'No such file')" 1
case $out in
    *rc=0) is file-made-in-renamed-cwd "$(cat "$hc/d2/b" 2>&1)" y ;;
    *) result file-made-in-renamed-cwd 0 ;;  # refused is fine; the host checks nothing appeared elsewhere
esac

# 3. g (cached, a file) becomes a directory on the host.
step file-to-dir
out=$(cat "$hc/g" 2>&1)
case $out in
    g | *"Is a directory"* | *"Stale file handle"* | *"No such file"*) result cached-file-now-dir 0 "saw '$out'" ;;
    *) result cached-file-now-dir 1 "got '$out'" ;;
esac
expire
is file-now-dir-lookup "$(cat "$hc/g/inner" 2>&1)" inner
is file-now-dir-is-dir "$(test -d "$hc/g" && echo dir)" dir

# 4. The guest's working directory e is removed on the host; making a file there must fail.
out=$(cd "$hc/e" && step remove-e && { echo z >new-after-rmdir; } 2>&1; echo "rc=$?")
case $out in
    *rc=0) result create-in-removed-cwd-fails 1 "creating a file in the removed directory succeeded" ;;
    *) result create-in-removed-cwd-fails 0 "saw '$(echo "$out" | head -1)'" ;;
esac
expire
is removed-dir-gone "$(test -e "$hc/e" && echo exists || echo gone)" gone

# 5. w is open for writing; the host unlinks it. Writes go to the unlinked file or fail; w stays gone.
exec 4>>"$hc/w"
step unlink-w
echo more >&4 2>/dev/null
exec 4>&-
expire
is unlinked-open-file-stays-gone "$(test -e "$hc/w" && echo exists || echo gone)" gone

# 6. The host renames src over dst (both cached).
step rename-over
expire
is renamed-over-target "$(cat "$hc/dst" 2>&1)" src
is renamed-over-source-gone "$(test -e "$hc/src" && echo exists || echo gone)" gone

# 7. r is open; the host renames it to r2. The descriptor still reads it; the new name finds it.
exec 5<"$hc/r"
step rename-r
is open-fd-after-rename "$(cat <&5 2>&1)" r
exec 5<&-
expire
is renamed-file-new-name "$(cat "$hc/r2" 2>&1)" r
is renamed-file-old-name-gone "$(test -e "$hc/r" && echo exists || echo gone)" gone

echo "FSCHECK SUMMARY: $passed passed, $failed failed"
[ "$failed" = 0 ]
